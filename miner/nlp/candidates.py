"""Every (marker, cancer, use) an abstract could support, with what the abstract says around it.

An abstract is read once into an :class:`AbstractView`: each sentence with its role, the markers it
names, the group phrases it uses ("bone turnover markers", "these markers", "all markers except
OPG", "none of the markers") resolved to the markers the abstract measured, its cancers, its cue
words for each use and its finding words; and abstract-level study-design signals. Candidates are
every measured marker with every cancer the study or the marker's sentences name (but not a sentence
restating earlier work) and every use: a generous set, which the learned scorer
(``miner.nlp.scoring``) narrows down from the features that ``miner.nlp.features`` computes on the view.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from miner.nlp.lexicon import USES, Lexicon
from miner.nlp.relations import (
    SENTENCE_FLAGS,
    Entity,
    Extraction,
    MarkerMention,
    SentenceReading,
    abstract_cues,
    common_sample,
    study_cancers,
)

BONE_CATEGORIES = ("bone_formation", "bone_resorption", "bone_matrix", "osteoclast_regulator")
EXCEPT = re.compile(r"\b(except|other than|apart from|but not|with the exception of)\b", re.IGNORECASE)


@dataclass(kw_only=True)
class Sentence(SentenceReading):
    """A sentence as ``read_sentences`` read it, with what the view adds: its place, the markers it reaches
    through group phrases and its flags."""

    index: int
    named: frozenset[str]
    """The canonical names of the markers it names (asked for each marker and candidate)."""
    flags: frozenset[str] = frozenset()
    groups: dict[str, str] = field(default_factory=dict)
    """Markers this sentence reaches through a group phrase, with the phrase."""
    correlate_end: int | None = None
    """Where "correlated with" ends, in a sentence naming two markers or more (document offset)."""
    excluded: frozenset[str] = frozenset()
    """Markers named after 'except' / 'other than': outside the group's statement."""


@dataclass
class AbstractView:
    sentences: list[Sentence]
    measured: dict[str, MarkerMention]
    """Each marker the abstract names, by canonical name, with its first mention."""
    study_cancers: list[str]
    flags: frozenset[str]
    rules: Extraction
    """What the hand rules of ``miner.nlp.relations`` found: one signal among the features."""
    sample: str | None
    """The sample the abstract names most."""
    text: str = ""
    title_end: int = 0
    out_of_scope_reason: str | None = None
    """Why the abstract cannot report a marker's use for bone metastasis, or None
    (``relations.out_of_scope_reason``)."""


@dataclass(frozen=True)
class Candidate:
    marker: str
    cancer: str
    use: str


def read_abstract(entities: list[Entity], lexicon: Lexicon, title_end: int, text: str,
                  readings: list[SentenceReading], rules: Extraction) -> AbstractView:
    """The view of one analysed abstract that candidates and features are computed from (its entities in
    order, text, sentences as ``read_sentences`` read them and what the hand rules found)."""
    sentences: list[Sentence] = []
    measured: dict[str, MarkerMention] = {}
    for index, reading in enumerate(readings):
        for mention in reading.markers:
            measured.setdefault(mention.marker, mention)
        sentences.append(Sentence(**vars(reading), index=index, named=frozenset(m.marker for m in reading.markers)))
    _resolve_groups(sentences, measured, lexicon)
    for sentence in sentences:  # flags are read where a marker is named or reached
        if len(sentence.named) > 1 and (
                span := lexicon.first_cue_span("grammar", "correlate", sentence.text)):
            sentence.correlate_end = sentence.start + span[1]
        if sentence.markers or sentence.groups:
            held = lexicon.holds(SENTENCE_FLAGS, sentence.text)  # (read ahead with the sentence's other kinds)
            sentence.flags = frozenset(f"{group}.{name}" for group, name in held)
    abstract_flags = {f"design.{name}" for group, name in lexicon.holds(abstract_cues(lexicon), text)
                      if group == "design"}
    if lexicon.has("context", "bone", text):
        abstract_flags.add("bone")
    if lexicon.has("grammar", "bone_disease", text):
        abstract_flags.add("bone_disease")
    if lexicon.has("grammar", "review", text[:title_end]):
        abstract_flags.add("review")
    if lexicon.has("grammar", "compares_groups", text):
        abstract_flags.add("design.compares_groups")
    return AbstractView(sentences, measured, study_cancers(entities, title_end), frozenset(abstract_flags), rules,
                        common_sample(entities, text), text, title_end,
                        rules.out_of_scope_reason)  # the gate the hand rules passed through


def _resolve_groups(sentences: list[Sentence], measured: dict[str, MarkerMention], lexicon: Lexicon) -> None:
    """Give each sentence with a group phrase the measured markers the phrase stands for. A sentence that
    names a family ("bone turnover markers were ...") is not read for generic phrases ("markers were")."""
    categories = sorted((name for group, name in lexicon.combined if group == "groups"), key=lambda n: n == "any")
    covered = {name: [m for m, mention in measured.items() if _group_covers(name, mention)] for name in categories}
    for sentence in sentences:
        family = False
        for name in categories:
            if name == "any" and family:
                continue
            if not covered[name]:  # a phrase that reaches no marker matters only as a family, which silences "any"
                if name != "any" and covered.get("any") and lexicon.has("groups", name, sentence.text):
                    family = True
                continue
            phrase = lexicon.first_cue("groups", name, sentence.text)
            if phrase is None:
                continue
            family = family or name != "any"
            for marker in covered[name]:
                if marker not in sentence.groups:
                    sentence.groups[marker] = phrase
        if sentence.groups:
            cut = EXCEPT.search(sentence.text)
            if cut:
                after = sentence.start + cut.end()
                sentence.excluded = frozenset(m.marker for m in sentence.markers if m.entity.start_char >= after)


def _group_covers(group: str, mention: MarkerMention) -> bool:
    if group == "bone":
        return mention.category in BONE_CATEGORIES
    if group == "resorption":
        return mention.category == "bone_resorption"
    if group == "formation":
        return mention.category == "bone_formation"
    if group == "tumor":
        return mention.category == "tumor_marker"
    return not mention.candidate  # "these markers", "all markers", "none of the markers"


def candidates(view: AbstractView) -> list[Candidate]:
    """Every (marker, cancer, use) the abstract could support: none in an abstract out of scope (one that never
    speaks of bone involvement by a cancer, or a bone drug's safety study: ``relations.out_of_scope_reason``, as
    for the hand rules). A sentence restating earlier work (outside the methods) adds no cancer."""
    found: list[Candidate] = []
    if view.out_of_scope_reason:
        return found
    for marker in view.measured:
        cancers = list(view.study_cancers)
        for sentence in view.sentences:
            restates = "sentence.background" in sentence.flags and sentence.role != "methods"
            if (marker in sentence.named or marker in sentence.groups) and not restates:
                cancers.extend(c for c in sentence.cancers if c not in cancers)
        specific = [c for c in cancers if c != "solid_tumors"]
        if specific and "solid_tumors" in cancers and "solid_tumors" not in view.study_cancers:
            cancers = specific
        for cancer in cancers:
            found.extend(Candidate(marker, cancer, use) for use in USES)
    return found

