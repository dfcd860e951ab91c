"""Cue patterns: combined and case-folded for speed, they find what each pattern finds on its own."""

from __future__ import annotations

import json
import re

from miner.nlp.lexicon import load_lexicon
from miner.nlp.patterns import (
    CaselessPattern,
    _first_letters,
    _folds_apart,
    _lowered,
    _needles,
    _prefilter,
    combine,
    fold_pattern,
    forget_cues,
    without_groups,
    word_start_search,
)
from tests.conftest import shared_file

TEXTS = [
    "Serum NTX predicted Skeletal-Related Events (SREs) and OS; AUC 0.82 (95% CI), after the diagnosis of bone "
    "metastases vs. at DIAGNOSIS OF BONE disease.",
    "The Receiver Operating Characteristic curve: +BM vs −BM ≤ 5 years – Time To Progression.",
    "Kinetics of PSA ſurvival and OS under ADT: levels fell after ZOL (K ratio).",
]


def spans(matches: object) -> list[tuple[tuple[int, int], int | None]]:
    return [(m.span(), m.lastindex) for m in matches]  # type: ignore[attr-defined]


def test_folded_patterns_match_where_the_originals_match() -> None:
    lexicon = load_lexicon()
    assert all(pattern.folded is not None for pattern in lexicon.combined.values())
    for key, pattern in lexicon.combined.items():
        for text in TEXTS:
            assert spans(pattern.finditer(text)) == spans(pattern.regex.finditer(text)), key
    assert lexicon.cue("use", "prognosis", TEXTS[0]) == ["OS"]  # as written, not lowercased


def test_patterns_whose_meaning_case_could_change_are_not_folded() -> None:
    assert fold_pattern(r"\bOS\b|\S+ [0-Z]") is None
    assert fold_pattern(r"[A-Za-z]+ OS") == "[a-za-z]+ os"
    assert fold_pattern(r"(?P<Name>x)") is None
    assert fold_pattern(r"\bOS\B\S") == r"\bos\B\S"


def test_combined_lookbehinds_keep_the_order_of_the_alternatives() -> None:
    patterns = [r"\bsurvival free", r"(?<!free )\bsurvival\b", "receiver", r"\bdeath"]
    combined = combine(patterns)
    assert combined.regex.pattern.startswith(r"\b(?=[ds])(?:(?:survival free)|(?:death)|(?:(?<!free )survival\b))")
    unmoved = re.compile(r"\b(?:(?:survival free)|(?:death))|(?:(?<!free )\bsurvival\b)|(?:receiver)", re.IGNORECASE)
    text = "Survival free of death; free survival; receiver survival, Survival."
    assert spans(combined.finditer(text)) == spans(unmoved.finditer(text))
    assert len(spans(combined.finditer(text))) == 5


def test_first_letters_of_the_shared_alternatives() -> None:
    assert _first_letters(r"(?:(?:OS\b)|(?:(clinical )?outcomes?)|(?:[+-]BM))") == r"\+\-co"
    assert _first_letters(r"(?:(?:\w+ marker)|(?:death))") is None
    assert _first_letters(r"(?:(?:(a )?)|(?:death))") is None


def test_the_first_letter_lookahead_changes_no_match() -> None:
    lexicon = load_lexicon()
    for key, pattern in lexicon.combined.items():
        assert pattern.regex.pattern.startswith(r"\b(?=["), key
        plain = re.compile(re.sub(r"^\\b\(\?=\[[^\]]*\]\)", r"\\b", pattern.regex.pattern), re.IGNORECASE)
        for text in TEXTS:
            assert spans(pattern.regex.finditer(text)) == spans(plain.finditer(text)), key


def test_needles_are_strings_every_match_holds() -> None:
    def needles(pattern: str) -> set[str] | None:
        return _needles(list(re._parser.parse(pattern).data))  # type: ignore[attr-defined]

    assert needles(r"\b(bone|skeletal) (turnover|markers?)\b") == {"turnover", "marker"}
    assert needles(r"\b(?:(?:kaplan)|(?:hazard ratios?)|(?:(os|pfs)\b))") == {"kaplan", "hazard ratio", "os", "pfs"}
    assert needles(r"\b(?:(?:kaplan)|(?:\w+ marker)|(?:(the )?x))") == {"kaplan", " marker", "x"}
    assert needles(r"\b(?:(?:kaplan)|(?:\w+))") is None
    assert needles(r"(ab|cd)+ ?e") == {"ab", "cd"}
    assert needles(r"\b(?:mir|microrna|mirna)-?\d") == {"mir", "microrna", "mirna"}  # parsed as 'mi' + (r|...)
    assert _prefilter(r"\b(?=[k])(?:(?:kaplan)|(?:(os|pfs)\b))") is None  # 'os' is too short to pay
    assert _prefilter(r"\b(?=[k])(?:kaplan|meier)") == ("kaplan", "meier")
    assert _prefilter("receiver operating") is None  # a literal start: the regex engine finds it directly


def test_cue_prefilters_and_parts_change_no_answer() -> None:
    lexicon = load_lexicon()
    texts = list(TEXTS)
    for line in shared_file("corpus/dev_abstracts.jsonl").open():
        record = json.loads(line)
        texts.extend(re.split(r"(?<=\.) ", f"{record['title']}\n{record['abstract']}"))
    for key, pattern in lexicon.combined.items():
        for text in texts:
            found = pattern.regex.search(text) is not None
            assert pattern.occurs(text) == found, (key, text)
            assert (pattern.search(text) is not None) == found, (key, text)
            assert spans(pattern.finditer(text)) == spans(pattern.regex.finditer(text)), (key, text)


def test_groups_are_dropped_for_existence_but_not_classes_escapes_or_backreferences() -> None:
    assert without_groups(r"\b(a|b) [(](c)\(d(?:e)") == r"\b(?:a|b) [(](?:c)\(d(?:e)"
    assert without_groups(r"[]()](x)[^](](y)") == r"[]()](?:x)[^](](?:y)"
    assert without_groups(r"(a|b)\1") == r"(a|b)\1"


def test_the_word_start_search_finds_what_the_pattern_finds() -> None:
    pattern = (r"\b(?=[dsb])(?:(?:diagnos(?:is|tic))|(?:(?<!after )(?<!the )screen(?:ing)?)|(?:(?:bone|skeletal) "
               r"scans?)|(?:s\b))")
    fast = word_start_search(pattern)
    assert fast is not None
    texts = ["after screening", "the screening", "a screening", "nondiagnostic", "–diagnosis", "diagnosis first",
             "x_bone scan", "skeletal scans", "≥bone scan", "(s)", "is s", "5diagnostic", "µdiagnostic", "’screen"]
    for text in texts:
        expected = re.search(pattern, text) is not None
        assert (fast.search(text) is not None or re.match(pattern, text) is not None) == expected, text
    assert sum(re.search(pattern, text) is not None for text in texts) == 8
    assert word_start_search(r"\b(?=.*x)abc") is None  # a lookahead that is not a first-letter guard
    assert word_start_search(r"\b\w+ marker") is None
    assert word_start_search(r"\b(?=[+])(?:\+bm)") is None  # a first character that is not a word's


def test_cue_existence_is_unchanged_next_to_any_character() -> None:
    lexicon = load_lexicon()
    marks = ["", "–", "≥", "_", "5", "\u00a0", "😀", "µ", "(", "’"]
    texts = [f"{a}Diagnostic{b} accuracy{a}; {b}Bone Metastases{a}ROC{b}" for a in marks for b in marks]
    for key, pattern in lexicon.combined.items():
        for text in texts:
            assert pattern.occurs(text) == (pattern.regex.search(text) is not None), (key, text)


def test_characters_that_fold_apart_from_ascii_are_read_alike_lowercased() -> None:
    apart = "".join(c for c in map(chr, range(0x80, 0x30000)) if _folds_apart(c))
    assert all(c in apart for c in "βΒéÉΣµ")
    assert not any(_folds_apart(c) for c in "İ\u212aſıß")  # (the Kelvin sign)
    assert re.search("[a-z]", apart, re.IGNORECASE) is None  # no ASCII letter matches one, in any case
    for klass in (r"\w", r"\d", r"\s"):
        assert re.sub(klass, "1", apart).translate({c: "0" for c in range(0x30000) if c != ord("1")}) == re.sub(
            klass, "1", _lowered(apart) or "").translate({c: "0" for c in range(0x30000) if c != ord("1")}), klass


def test_cue_existence_is_unchanged_next_to_letters_of_other_scripts() -> None:
    lexicon = load_lexicon()
    kinds = tuple(lexicon.combined)
    marks = ["β", "Β", "é", "Σ", "µ", "ª", "İ", "\u212a", "ſ", "ß"]  # ª: a caseless letter
    texts = [f"{a}Diagnostic{b} accuracy{a}; {b}Bone Metastases{a}ROC in {b}skeletal {a}SREs" for a in marks
             for b in marks]
    assert sum(_lowered(text) is not None for text in texts) == 36  # read lowercased: β, Β, é, Σ, µ or ª on both sides
    for text in texts:
        forget_cues()
        for key, pattern in lexicon.combined.items():
            assert pattern.occurs(text) == (pattern.regex.search(text) is not None), (key, text)
            assert spans(pattern.finditer(text)) == spans(pattern.regex.finditer(text)), (key, text)
        assert lexicon.holds(kinds, text) == {kind for kind in kinds if lexicon.has(*kind, text)}, text
    forget_cues()


def test_a_caseless_pattern_is_searched_only_where_its_word_start_search_finds_it() -> None:
    pattern = CaselessPattern(r"\b((?:lung|breast)(?:,\s*|\s+and\s+)?)+\s+cancers?")
    assert pattern.at_words is not None
    texts = ["Lung and breast cancer", "–breast cancers", "xlung cancer", "lung, breast,  cancer", "cancer",
             "lung 😀 cancer"]
    for text in texts:
        assert spans(pattern.finditer(text)) == spans(pattern.regex.finditer(text)), text
        assert pattern.occurs(text) == (pattern.regex.search(text) is not None), text
    assert sum(pattern.occurs(text) for text in texts) == 3


def test_cue_kinds_read_in_one_pass_are_those_each_search_finds() -> None:
    lexicon = load_lexicon()
    kinds = tuple(lexicon.combined)
    marks = ["", "–", "_", "😀", "中", "("]
    texts = [*TEXTS, *(f"{a}Diagnostic{b} accuracy; +BM{a}Bone metastases were {b}higher in the M1 group" for a in marks
                       for b in marks)]
    for text in texts:
        assert lexicon.holds(kinds, text) == {kind for kind in kinds if lexicon.has(*kind, text)}, text
    assert len(lexicon.holds(kinds, texts[0])) > 5


def test_cue_kinds_read_in_one_pass_on_real_sentences_are_those_each_search_finds() -> None:
    lexicon = load_lexicon()
    kinds = tuple(lexicon.combined)
    texts = []
    for line in shared_file("corpus/dev_abstracts.jsonl").open():
        record = json.loads(line)
        texts.append(f"{record['title']}\n{record['abstract']}")
        texts.extend(re.split(r"(?<=\.) ", record["abstract"]))
    held = 0
    for text in texts:
        forget_cues()
        found = lexicon.holds(kinds, text)
        assert found == {kind for kind in kinds if lexicon.has(*kind, text)}, text
        held += len(found)
    forget_cues()
    assert held > len(texts)


def test_cue_kinds_read_ahead_answer_as_their_searches() -> None:
    lexicon = load_lexicon()
    kinds = tuple(kind for kind in lexicon.combined if kind[0] in ("use", "sentence", "groups"))
    found = 0
    for text in TEXTS:
        forget_cues()
        searched = {kind: (lexicon.has(*kind, text), lexicon.cue(*kind, text), lexicon.first_cue(*kind, text),
                           lexicon.cue_starts(*kind, text)) for kind in lexicon.combined}
        forget_cues()
        lexicon.read_ahead(kinds, text)
        assert {kind: (lexicon.has(*kind, text), lexicon.cue(*kind, text), lexicon.first_cue(*kind, text),
                       lexicon.cue_starts(*kind, text)) for kind in lexicon.combined} == searched, text
        for asked in (kinds[::2], (*kinds[:3], ("context", "bone"))):  # read ahead, or not all of them
            assert lexicon.holds(asked, text) == {kind for kind in asked if searched[kind][0]}, text
        found += sum(kind in kinds and held for kind, (held, *_) in searched.items())
    assert found > 5
    forget_cues()
