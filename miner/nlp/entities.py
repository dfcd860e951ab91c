"""The `miner_entities` spaCy component: MARKER, CANCER and SAMPLE mentions, normalised.

Sources, in order of trust: the lexicon (corpora/markers.csv, cancers.csv, samples.csv), short
forms defined in the abstract (the `miner_abbreviations` component), patterns for families no list can
hold (microRNAs, lncRNAs, gene variants in blood, blood counts and their ratios, sample prefixes glued
to an acronym such as "sCTX", coordinated cancers such as "breast- and prostate cancer", gene symbols
in biomarker position), and a statistical NER model's entities when one is configured. Markers that the
lexicon lacks are kept as candidates. Ambiguous short forms (OC, DTC, AP, Tg, MM, BC, ...) are kept
only with support in the same abstract; every rejected mention is kept with its reason for
`miner explain`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from operator import attrgetter
from typing import NamedTuple

from spacy.attrs import IDX, LENGTH
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from miner.nlp.lexicon import Lexicon, load_lexicon
from miner.nlp.patterns import CaselessPattern, needles

LEXICON_SOURCE = "lexicon"
"""The source of most entities: the default of ``Span._.source``, set only for the others."""
for _name, _default in (("source", LEXICON_SOURCE), ("candidate", None), ("category", None), ("reason", None)):
    if not Span.has_extension(_name):
        Span.set_extension(_name, default=_default)

MIRNA = CaselessPattern(
    r"\b(?:hsa-)?(?:miR|microRNA|miRNA|mir)-?(\d+[a-z]?)(?:-(\d))?(?:-([35]p))?\b|\blet-7([a-z])?\b")
LNCRNA = re.compile(
    r"\b(?:lncRNA|long non-?coding RNA)[\s-]+(?!RNA|expression|levels?\b)([A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*)"
    r"|\b(LINC\d{5}|SNHG\d+|HOTAIR|HOTTIP|MALAT-?1|NEAT-?1|PVT-?1|MEG-?3|GAS-?5|XIST|H19|PCAT-?\d+|PCA3|TUG-?1|"
    r"UCA-?1|CCAT-?[12]|HULC|SChLAP1|ANRIL)\b")
ALTERATION = re.compile(
    r"\b([A-Z][A-Z0-9]{1,6})(?:-V(\d+)\b|\s+(?:gene\s+)?(mutation|amplification|copy[- ]number|methylation)"
    r"(?:s|\s+(?:gains?|alterations?))?\b)")


def _hint(pattern: re.Pattern) -> re.Pattern:
    """Finds one of the strings every match of ``pattern`` holds, in one pass: most abstracts hold none of a
    rare pattern's, and are not searched. (Without known strings, the empty pattern finds a place anywhere.)"""
    return re.compile("|".join(map(re.escape, needles(pattern.pattern) or ())))


LNCRNA_HINT, ALTERATION_HINT = _hint(LNCRNA), _hint(ALTERATION)
"""Whether a text can hold an lncRNA or a gene alteration."""
BLOOD_CONTEXT = CaselessPattern(r"\b(?:ctDNA|cfDNA|cell-free|plasma|serum|blood|circulating|liquid biops|CTCs?)")
CELLS = r"(neutrophil|lymphocyte|monocyte|platelet|eosinophil|basophil|leu[ck]ocyte|reticulocyte)"
CELL = CaselessPattern(rf"\b{CELLS}")
"""A cell's name, which every match of the two patterns below holds: a text without one is not searched."""
CELL_COUNT = CaselessPattern(rf"\b(?:absolute\s+)?{CELLS}s?\s+counts?\b")
CELL_RATIO = CaselessPattern(rf"\b{CELLS}[\s-]*(?:to[\s-]+|/|-)\s*{CELLS}\s*(?:\([A-Za-z/]{{1,5}}\)\s*)?ratios?\b")
LIST_SEPARATOR = re.compile(r"\s*(?:,|;|,?\s+and|,?\s+or)\s*")
CANCER_HEADS = r"(?:cancers?|carcinomas?|adenocarcinomas?|tumou?rs?|malignanc(?:y|ies)|neoplasms?)"
SYMBOL = re.compile(r"^(?=.*[A-Z].*[A-Z0-9])[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*$")
MEASURE_WORDS = {"serum", "plasma", "urine", "urinary", "blood", "levels", "level", "circulating", "marker",
                 "markers", "biomarker", "biomarkers", "concentration", "concentrations", "measured", "including",
                 "such", "namely", "with", "and", "turnover", "resorption", "formation"}
CANDIDATE_POSITION = CaselessPattern(
    r"\b(serum|plasma|circulating|urinary|urine|blood|soluble)\s+([A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*)\b"
    r"|\b([A-Za-z][A-Za-z0-9]*+(?:-[A-Za-z0-9]++)*+)\s+(?=(levels?|concentrations?|expression|values?)\b)")
"""A symbol after a sample word, or before a word for a measurement. The second alternative, tried at every
word, takes the word possessively (``*+``): giving characters back could only end the word on a letter or
digit, where neither '-' nor a space follows, so the matches are the same, found without backtracking."""
SAMPLE_STEMS = ("serum", "plasma", "circulating", "urin", "blood", "soluble")
MEASUREMENT_STEMS = ("level", "concentration", "expression", "value")
SYMBOL_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
"""What the second alternative's word is made of (in lowercased text)."""


def candidate_starts(lowered: str) -> Iterator[int]:
    """Where ``CANDIDATE_POSITION`` can match in a lowercased text (and some places where it does not): at a sample
    word; before a measurement word and the spaces before it, at the start of the word there (letters, digits and
    hyphens) or after one of its hyphens, where a word boundary can be. The few measurement and sample words are
    found with ``str.find``, faster than the pattern's search, which reads every word of the text."""
    for stem in SAMPLE_STEMS:
        yield from _occurrences(lowered, stem)
    for stem in MEASUREMENT_STEMS:
        for at in _occurrences(lowered, stem):
            end = at
            while end and lowered[end - 1].isspace():  # (as \s: both are Unicode whitespace)
                end -= 1
            start = end
            while start and lowered[start - 1] in SYMBOL_CHARACTERS:
                start -= 1
            if start < end < at:
                yield start
                yield from (i + 1 for i in range(start, end) if lowered[i] == "-")


def _occurrences(text: str, word: str) -> Iterator[int]:
    at = text.find(word)
    while at >= 0:
        yield at
        at = text.find(word, at + 1)


def doc_text(doc: Doc) -> str:
    """The document's text, kept by `analyse` so that components need not rebuild it from tokens."""
    return doc.user_data.get("text") or doc.text


def token_texts(doc: Doc) -> list[str]:
    """Each token's text, sliced from the document's text (no Token objects are made). Kept in
    ``doc.user_data`` for the next component that asks (the entity finder drops it when done)."""
    texts = doc.user_data.get(TOKEN_TEXTS)
    if texts is None:
        text, columns = doc_text(doc), doc.to_array([IDX, LENGTH])
        starts, lengths = columns[:, 0].tolist(), columns[:, 1].tolist()
        texts = doc.user_data[TOKEN_TEXTS] = [text[s : s + n] for s, n in zip(starts, lengths, strict=True)]
    return texts


TOKEN_TEXTS = "token_texts"
ENTITIES = "entities"
"""``doc.user_data`` key of the entities as plain records, in order (``Entity``), beside ``doc.spans["entities"]``:
each read of ``doc.spans`` makes new Span objects (about 10 µs each)."""


class Entity(NamedTuple):
    """An entity, as the rules and the scorer read it (plain values: each Span attribute read is a call, and each
    ``._`` read makes an object)."""

    label: str
    kb_id: str
    start: int
    end: int
    start_char: int
    end_char: int
    candidate: bool
    """A marker the lexicon lacks."""


def _entity(span: Span) -> Entity:
    label = span.label_
    return Entity(label, span.kb_id_, span.start, span.end, span.start_char, span.end_char,
                  label == "MARKER" and bool(span._.candidate))


Abbreviations = list[tuple[Span, str, Span | None]]
"""Each occurrence of a defined short form, with its text and its definition's Span."""


def _short(synonym: str) -> bool:
    """Acronyms and symbols are matched case-sensitively; names (any lowercase word, 'serum' as 'Serum'),
    case-insensitively."""
    return not synonym.islower() and (len(synonym) <= 6 or " " not in synonym)


def _words(text: str) -> set[str]:
    """A name's words of four letters or more, lowercased: what two forms of a name are compared by."""
    return set(re.findall(r"[a-z]{4,}", text.lower()))


@Language.factory("miner_entities", default_config={})
def make_entities(nlp: Language, name: str) -> EntityFinder:
    return EntityFinder(nlp, load_lexicon())


class EntityFinder:
    def __init__(self, nlp: Language, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self.exact = PhraseMatcher(nlp.vocab, attr="ORTH")
        self.folded = PhraseMatcher(nlp.vocab, attr="LOWER")
        self.keys: dict[str, tuple[str, str, bool]] = {}
        entries: list[tuple[str, str, str, bool]] = []
        for marker in lexicon.markers.values():
            for synonym in marker.synonyms:
                entries.append(("MARKER", marker.name, synonym, synonym in marker.ambiguous))
        for cancer in lexicon.cancers.values():
            for synonym in cancer.synonyms:
                entries.append(("CANCER", cancer.name, synonym, synonym in cancer.ambiguous))
        for sample, synonyms in lexicon.samples.items():
            for synonym in synonyms:
                entries.append(("SAMPLE", sample, synonym, False))
        exact: dict[str, list[Doc]] = {}
        folded: dict[str, list[Doc]] = {}
        for label, canonical, synonym, ambiguous in entries:
            key = f"{label}|{canonical}|{int(ambiguous)}"
            self.keys[key] = (label, canonical, ambiguous)
            target = exact if _short(synonym) else folded
            target.setdefault(key, []).append(nlp.make_doc(synonym))
            if "-" in synonym and not _short(synonym):
                target[key].append(nlp.make_doc(synonym.replace("-", " ")))
                target[key].append(nlp.make_doc(synonym.replace("-", "–")))
        for key, docs in exact.items():
            self.exact.add(key, docs)
        for key, docs in folded.items():
            self.folded.add(key, docs)
        acronyms = {s: m.name for m in lexicon.markers.values() for s in m.synonyms
                    if " " not in s and sum(c.isupper() for c in s) >= 2}
        self.glued = {f"{prefix}{dash}{name}": marker for name, marker in acronyms.items() for prefix in "su"
                      for dash in ("", "-") if dash or not name.startswith("-")}
        """'sCTX', 'u-NTX': the serum and urine prefixes glued to each acronym, with the acronym's marker."""
        organs = {w: c.name for c in lexicon.cancers.values() for w in c.organ_words}
        self.organs = organs
        words = "|".join(sorted(map(re.escape, organs), key=len, reverse=True))
        self.coordinated = CaselessPattern(
            rf"\b((?:(?:{words})(?:-|\s)?(?:,\s*|\s+and\s+|\s+or\s+|\s*/\s*)(?:and\s+)?)+(?:{words}))\s+{CANCER_HEADS}")
        self.organ_word = re.compile(rf"\b({words})\b", re.IGNORECASE)

    def __call__(self, doc: Doc) -> Doc:
        found: list[Span] = []
        rejected: list[Span] = []
        vocab = doc.vocab
        some_ambiguous = False  # only the lexicon's matches can be
        for matcher in (self.exact, self.folded):
            for match_id, start, end in matcher(doc):
                label, canonical, ambiguous = self.keys[vocab.strings[match_id]]
                found.append(self._span(doc, start, end, label, canonical, LEXICON_SOURCE, ambiguous=ambiguous))
                some_ambiguous = some_ambiguous or ambiguous
        text = doc_text(doc)
        found = list(self._molecular_forms(doc, found))
        found.extend(self._glued_samples(doc, found))
        found.extend(self._mirnas(doc, text))
        found.extend(self._lncrnas(doc, text))
        found.extend(self._alterations(doc, text))
        found.extend(self._blood_counts(doc, text))
        found.extend(self._coordinated_cancers(doc, text))
        found.extend(self._model_entities(doc))
        abbreviations = ([(short, text[short.start_char : short.end_char], short._.long_form)
                          for short in doc._.abbreviations]  # each Span's ._ read once; its text sliced
                         if Doc.has_extension("abbreviations") else None)  # (Span.text makes a Token for each word)
        found, abbreviation_rejects = self._apply_abbreviations(doc, text, found, abbreviations, some_ambiguous)
        rejected.extend(abbreviation_rejects)
        found = list(self._named_by_short_form(doc, found))
        found.extend(self._candidates(doc, text, found))
        if some_ambiguous:
            kept, unsupported = self._support(text, found)
            rejected.extend(unsupported)
        else:
            kept = found
        kept, in_ratios = self._ratios(text, filter_spans(kept))
        rejected.extend(in_ratios)
        doc.spans["entities"] = kept
        doc.user_data[ENTITIES] = sorted(map(_entity, kept), key=attrgetter("start"))
        doc.spans["rejected"] = rejected
        doc.user_data.pop(TOKEN_TEXTS, None)
        if abbreviations is not None:
            self._serialisable_abbreviations(doc, text, abbreviations)
        return doc

    @staticmethod
    def _serialisable_abbreviations(doc: Doc, text: str, abbreviations: Abbreviations) -> None:
        """The abbreviation finder keeps abbreviations as Spans (in ``doc._.abbreviations`` and each short form's
        ``long_form``), which cannot cross process boundaries (nlp.pipe with n_process): keep plain
        records instead."""
        doc._.abbreviations = [{"short": short_text, "long": text[long_form.start_char : long_form.end_char],
                                "start": short.start_char}
                               for short, short_text, long_form in abbreviations if long_form is not None]
        for key in [k for k in doc.user_data if isinstance(k, tuple) and len(k) > 1 and k[1] == "long_form"]:
            del doc.user_data[key]

    # -- sources -----------------------------------------------------------------------------
    @staticmethod
    def _span(doc: Doc, start: int, end: int, label: str, canonical: str, source: str,
              candidate: bool = False, ambiguous: bool = False) -> Span:
        span = Span(doc, start, end, label=label, kb_id=canonical)
        if source == LEXICON_SOURCE and not candidate and not ambiguous:
            return span  # (each ._ is a new object that reads the span's offsets, ~1 µs: made only when needed)
        extension = span._
        if source != LEXICON_SOURCE:  # extensions are set only where they differ from their defaults
            extension.source = source
        if candidate:
            extension.candidate = True
        if ambiguous:
            extension.reason = "ambiguous"
        return span

    def _char_span(self, doc: Doc, start: int, end: int, label: str, canonical: str, source: str,
                   candidate: bool = False) -> Span | None:
        span = doc.char_span(start, end, alignment_mode="expand")
        if span is None:
            return None
        return self._span(doc, span.start, span.end, label, canonical, source, candidate)

    def _molecular_forms(self, doc: Doc, found: list[Span]) -> Iterable[Span]:
        """'PSA mRNA', 'prostate-specific antigen (PSA) mRNA': the transcript, when the lexicon has it."""
        for span in found:
            transcript = f"{span.kb_id_} mRNA"
            if span.label_ == "MARKER" and transcript in self.lexicon.markers:
                end = span.end
                while end < len(doc) and end - span.end < 3 and doc[end].text in (")", "(", span.kb_id_):
                    end += 1
                if end < len(doc) and doc[end].text == "mRNA":
                    yield self._span(doc, span.start, end + 1, "MARKER", transcript, LEXICON_SOURCE)
                    continue
            yield span

    def _glued_samples(self, doc: Doc, found: list[Span]) -> Iterable[Span]:
        """'sCTX', 'uNTX', 's-CTX': a serum/urine prefix glued to a marker's acronym (case-sensitive).
        The prefix says the name is a measured marker, so an ambiguous acronym needs no more support."""
        texts = token_texts(doc)
        if self.glued.keys().isdisjoint(texts):  # most abstracts have none: no loop over their tokens
            return
        taken = {i for s in found for i in range(s.start, s.end)}
        for i, word in enumerate(texts):
            if word in self.glued and i not in taken:
                yield self._span(doc, i, i + 1, "MARKER", self.glued[word], "pattern")

    def _lncrnas(self, doc: Doc, text: str) -> Iterable[Span]:
        """'lncRNA HOTAIR', 'long non-coding RNA X', and the lncRNA families named without the prefix."""
        if LNCRNA_HINT.search(text) is None:
            return
        for m in LNCRNA.finditer(text):
            name = m.group(1) or m.group(2)
            if name in self.lexicon.not_markers or not any(c.isupper() or c.isdigit() for c in name):
                continue
            canonical = self.lexicon.marker_for(m.group(0)) or self.lexicon.marker_for(name)
            span = self._char_span(doc, m.start(), m.end(), "MARKER", canonical or name, "pattern",
                                   candidate=canonical is None)
            if span is not None:
                yield span

    def _alterations(self, doc: Doc, text: str) -> Iterable[Span]:
        """Gene variants measured in blood: 'AR-V7', 'AR amplification', 'TP53 mutations' in ctDNA.
        Only in a sentence about a blood sample: elsewhere a mutation describes the tumour."""
        if ALTERATION_HINT.search(text) is None:
            return
        for sentence in re.finditer(r"[^.]+", text):
            if not BLOOD_CONTEXT.occurs(sentence.group(0)):
                continue
            for m in ALTERATION.finditer(sentence.group(0)):
                gene = m.group(1)
                if gene in self.lexicon.not_markers or self.lexicon.cancer_for(gene):
                    continue
                kind = m.group(3).lower().replace("-", " ") if m.group(3) else ""
                name = f"{gene}-V{m.group(2)}" if m.group(2) else f"{gene} {kind}"
                canonical = self.lexicon.marker_for(name)
                start = sentence.start() + m.start()
                span = self._char_span(doc, start, start + len(m.group(0)), "MARKER", canonical or name,
                                       "pattern", candidate=canonical is None)
                if span is not None:
                    yield span

    def _blood_counts(self, doc: Doc, text: str) -> Iterable[Span]:
        """Cell counts ('absolute lymphocyte count') and ratios of cell counts ('neutrophil/lymphocyte
        ratio' is NLR): markers of their own, not ratios of two markers."""
        if not CELL.occurs(text):
            return
        for m in CELL_COUNT.finditer(text):
            name = f"{m.group(1).lower()} count"
            canonical = self.lexicon.marker_for(name)
            span = self._char_span(doc, m.start(), m.end(), "MARKER", canonical or name, "pattern",
                                   candidate=canonical is None)
            if span is not None:
                yield span
        for m in CELL_RATIO.finditer(text):
            if m.group(1).lower() == m.group(2).lower():
                continue
            name = f"{m.group(1)[0]}{m.group(2)[0]}R".upper()
            canonical = self.lexicon.marker_for(name)
            span = self._char_span(doc, m.start(), m.end(), "MARKER", canonical or name, "pattern",
                                   candidate=canonical is None)
            if span is not None:
                yield span

    def _mirnas(self, doc: Doc, text: str) -> Iterable[Span]:
        for m in MIRNA.finditer(text):
            if m.group(0).lower().startswith("let-7"):
                name = f"let-7{text[m.start(4) : m.end(4)]}"  # as written: the match's groups may be lowercased
            else:
                name = f"miR-{m.group(1).lower()}" + (f"-{m.group(2)}" if m.group(2) else "") + (
                    f"-{m.group(3).lower()}" if m.group(3) else "")
            canonical = self.lexicon.marker_for(name) or self.lexicon.marker_for(name.rsplit("-", 1)[0])
            span = self._char_span(doc, m.start(), m.end(), "MARKER", canonical or name, "pattern",
                                   candidate=canonical is None)
            if span is not None:
                yield span

    def _coordinated_cancers(self, doc: Doc, text: str) -> Iterable[Span]:
        """'breast- and prostate cancer', 'prostate, lung and breast cancer': one CANCER per organ."""
        for m in self.coordinated.finditer(text):
            for organ in self.organ_word.finditer(m.group(1)):
                start = m.start(1) + organ.start()
                span = self._char_span(doc, start, start + len(organ.group(0)), "CANCER",
                                       self.organs[organ.group(0).lower()], "pattern")
                if span is not None:
                    yield span

    def _model_entities(self, doc: Doc) -> Iterable[Span]:
        """Entities of a statistical NER model (the `model_ner` component), through the lexicon."""
        for ent in doc.spans.get("model", []):
            if ent.label_ in ("CANCER", "DISEASE"):
                canonical = self.lexicon.cancer_for(ent.text)
                if canonical:
                    yield self._span(doc, ent.start, ent.end, "CANCER", canonical, "model")
            elif ent.label_ in ("GENE_OR_GENE_PRODUCT", "GENE", "PROTEIN", "CHEMICAL", "SIMPLE_CHEMICAL"):
                canonical = self.lexicon.marker_for(ent.text)
                if canonical or (ent.label_ != "CHEMICAL" and ent.text not in self.lexicon.not_markers):
                    yield self._span(doc, ent.start, ent.end, "MARKER", canonical or ent.text, "model",
                                     candidate=canonical is None)

    def _apply_abbreviations(self, doc: Doc, text: str, found: list[Span], abbreviations: Abbreviations | None,
                             some_ambiguous: bool) -> tuple[list[Span], list[Span]]:
        """Short forms defined in the abstract take the meaning of their long form (and are no longer ambiguous:
        only spans made ambiguous have a reason to clear)."""
        if abbreviations is None:
            return found, []
        meaning: dict[str, tuple[str, str] | None] = {}
        for _, short_text, long_form in abbreviations:
            if short_text in meaning or long_form is None:
                continue
            meaning[short_text] = self._resolve(text, long_form, found)
        for short_text in self._defined_otherwise(doc, text, found):
            meaning.setdefault(short_text, ("OTHER", short_text))
        if not meaning:
            return found, []
        kept, rejected = [], []
        for span in found:
            surface = text[span.start_char : span.end_char]
            if surface in meaning and span.label_ in ("MARKER", "CANCER"):
                resolved = meaning[surface]
                agrees = resolved == (span.label_, span.kb_id_) or (
                    resolved is None and self._long_form_agrees(text, abbreviations, span, surface))
                if not agrees:
                    span._.reason = "defined in this abstract as something else"
                    rejected.append(span)
                    continue
                if some_ambiguous:
                    span._.reason = None
            kept.append(span)
        known = {(s.start, s.end) for s in kept}
        biomarker_like: dict[str, bool] = {}  # a short form's, with its one definition: the same at each occurrence
        for short, short_text, long_form in abbreviations:
            resolved = meaning.get(short_text)
            if resolved and (short.start, short.end) not in known:
                label, canonical = resolved
                kept.append(self._span(doc, short.start, short.end, label, canonical, "abbreviation"))
            elif resolved is None and (short.start, short.end) not in known:
                if short_text not in biomarker_like:
                    biomarker_like[short_text] = self._biomarker_like(text, short_text, long_form)
                if biomarker_like[short_text]:
                    kept.append(self._span(doc, short.start, short.end, "MARKER", short_text, "abbreviation",
                                           candidate=True))
        return kept, rejected

    def _named_by_short_form(self, doc: Doc, found: list[Span]) -> Iterator[Span]:
        """A marker's name followed by the bracketed short form of a more specific marker, one whose names hold
        every word of that name, is the specific one: 'C-terminal telopeptide of type I collagen (ICTP)' is ICTP,
        not CTX, while 'bone alkaline phosphatase (ALP)' stays bone ALP."""
        markers = {s.start: s for s in found if s.label_ == "MARKER"}
        for span in found:
            short = markers.get(span.end + 1)
            if (span.label_ == "MARKER" and short is not None and short.kb_id_ != span.kb_id_
                    and doc[span.end].text == "(" and short.end < len(doc) and doc[short.end].text == ")"
                    and (marker := self.lexicon.markers.get(short.kb_id_)) is not None):
                words = _words(span.text)
                if words and any(words <= _words(name) for name in marker.synonyms):
                    span = self._span(doc, span.start, span.end, "MARKER", short.kb_id_, span._.source)
            yield span

    def _defined_otherwise(self, doc: Doc, text: str, found: list[Span]) -> set[str]:
        """Marker short forms in brackets after words that share nothing with the marker's names:
        'chemotherapy (CTX)' defines CTX as something else (scispacy pairs only letter-matching forms)."""
        defined = set()
        texts = token_texts(doc)
        for span in found:
            if span.label_ != "MARKER" or len(span) != 1 or span.start < 2 or span.end >= len(doc):
                continue
            if texts[span.start - 1] != "(" or texts[span.end] != ")":
                continue
            before = doc[max(0, span.start - 5) : span.start - 1]
            if any(s.start < span.start - 1 and s.end > before.start and s.kb_id_ == span.kb_id_ for s in found):
                continue
            words = _words(text[before.start_char : before.end_char])
            if words and not words & self._name_words(span.kb_id_) and not any(w in MEASURE_WORDS for w in words):
                defined.add(texts[span.start])  # (a one-token span)
        return defined

    def _resolve(self, text: str, long_form: Span, found: list[Span]) -> tuple[str, str] | None:
        long_text = text[long_form.start_char : long_form.end_char]  # (Span.text makes a Token for each word)
        direct = self.lexicon.marker_for(long_text)
        if direct:
            return ("MARKER", direct)
        cancer = self.lexicon.cancer_for(long_text)
        if cancer:
            return ("CANCER", cancer)
        inside = [s for s in found if s.start >= long_form.start and s.end <= long_form.end
                  and s.label_ in ("MARKER", "CANCER")]
        if inside:
            best = max(inside, key=len)
            if len(best) * 2 >= len(long_form):
                return (best.label_, best.kb_id_)
        return None

    def _long_form_agrees(self, text: str, abbreviations: Abbreviations, span: Span, surface: str) -> bool:
        """An unresolved definition still fits the marker (its text in the abstract: ``surface``) when it
        shares the marker's words."""
        if span.label_ != "MARKER":
            return False
        long_form = next((long for _, short_text, long in abbreviations if short_text == surface), None)
        if long_form is None:
            return False
        return bool(self._name_words(span.kb_id_) & _words(text[long_form.start_char : long_form.end_char]))

    def _name_words(self, canonical: str) -> set[str]:
        """The words of all a lexicon marker's names (none for a marker the lexicon lacks)."""
        marker = self.lexicon.markers.get(canonical)
        return set().union(*map(_words, marker.synonyms)) if marker else set()

    def _biomarker_like(self, text: str, short_text: str, long_form: Span) -> bool:
        long_text = text[long_form.start_char : long_form.end_char].lower()
        if re.search(r"risk[- ]factors?|\bscores?\b|\bindex\b|\bmodel\b|number[- ]of", long_text):
            return False  # a clinical score or model, not a molecule
        return bool(SYMBOL.match(short_text)) and short_text not in self.lexicon.not_markers and bool(re.search(
            r"protein|factor|ligand|receptor|antigen|kinase|peptide|hormone|enzyme|inhibitor|rna\b|dna\b|"
            r"microrna|chemokine|interleukin|cytokine|globulin|collagen|telopeptide|phosphatase", long_text))

    def _candidates(self, doc: Doc, text: str, found: list[Span]) -> Iterable[Span]:
        """Gene/protein symbols in biomarker position: 'serum X levels', 'circulating X'."""
        taken = [(s.start_char, s.end_char) for s in found]
        for m in CANDIDATE_POSITION.finditer_from(text, candidate_starts):
            start, end = m.span(2) if m.group(2) else m.span(3)
            word = text[start:end]  # as written: the match's own groups may be lowercased
            if word in self.lexicon.not_markers or len(word) < 3 or not SYMBOL.match(word) or not any(
                    c.isupper() for c in word[1:]) or any(a < end and start < b for a, b in taken):
                continue
            if self.lexicon.cancer_for(word):
                continue
            canonical = self.lexicon.marker_for(word)
            span = self._char_span(doc, start, end, "MARKER", canonical or word, "pattern",
                                   candidate=canonical is None)
            if span is not None:
                yield span

    @staticmethod
    def _ratios(text: str, spans: list[Span]) -> tuple[list[Span], list[Span]]:
        """'sRANKL/OPG', 'RANKL-OPG ratio': the members of a ratio are not evaluated on their own."""
        markers = [s for s in spans if s.label_ == "MARKER"]
        members: set[int] = set()
        for first, second in zip(markers, markers[1:], strict=False):
            between = text[first.end_char : second.start_char]
            if len(between) > 5:
                continue
            after = text[second.end_char : second.end_char + 7].lstrip().lower()
            if between == "/" or (between.strip() in ("/", ":", "-", "to") and after.startswith("ratio")):
                members.update((first.start, second.start))
        kept, rejected = [], []
        for span in spans:
            if span.start in members and span.label_ == "MARKER":
                span._.reason = "part of a ratio, not evaluated on its own"
                rejected.append(span)
            else:
                kept.append(span)
        return kept, rejected

    @staticmethod
    def _support(text: str, found: list[Span]) -> tuple[list[Span], list[Span]]:
        """Keep an ambiguous short form only when the abstract also names it in full, or lists it
        among markers named without ambiguity ('CaN, OPG, PTHrP and IL-6')."""
        ambiguous = [span._.reason == "ambiguous" for span in found]  # each ._ read makes an object: read once
        full = {(s.label_, s.kb_id_) for s, unsure in zip(found, ambiguous, strict=True) if not unsure}
        markers = sorted(((s, unsure) for s, unsure in zip(found, ambiguous, strict=True) if s.label_ == "MARKER"),
                         key=lambda pair: pair[0].start_char)
        listed = set()
        for (first, first_unsure), (second, second_unsure) in zip(markers, markers[1:], strict=False):
            if LIST_SEPARATOR.fullmatch(text[first.end_char : second.start_char]):
                listed.update(s.start for s, other_unsure in ((first, second_unsure), (second, first_unsure))
                              if not other_unsure)
        kept, rejected = [], []
        for span, unsure in zip(found, ambiguous, strict=True):
            if unsure and (span.label_, span.kb_id_) not in full and span.start not in listed:
                span._.reason = "ambiguous short form, not defined or named in full in this abstract"
                rejected.append(span)
            else:
                kept.append(span)
        return kept, rejected
