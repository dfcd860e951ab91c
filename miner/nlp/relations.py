"""(marker, cancer) pairs in an abstract → clinical use, finding, direction, sample, confidence.

A relation needs a sentence that reports on a marker (a result, a conclusion, the title or the
study's aim, never a background or methods statement) with a cue for a use, in an abstract about
bone involvement by a cancer. The cancer is the one the sentence names, or else the study's (from
the title, or the cancers the abstract is about). Every sentence's role, cues and the reason it
yielded nothing are kept as notes, for `miner explain`.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field

from spacy.tokens import Doc, Span

from miner.nlp.entities import ENTITIES, Entity
from miner.nlp.lexicon import USES, Lexicon

ROLE_CONFIDENCE = {"title": 0.7, "objective": 0.6, "result": 0.75, "conclusion": 0.85}
MIN_CONFIDENCE = 0.6
SECTION = re.compile(
    r"^\s*(background|introduction|purpose|aims?|objectives?|context|methods?|materials and methods|"
    r"patients and methods|design|setting|results?|findings|conclusions?|interpretation|discussion|summary)"
    r"(\s*:\s*|\s+(?=[A-Z0-9])|\s*$)", re.IGNORECASE)
SECTION_ROLE = {
    "background": "background", "introduction": "background", "context": "background",
    "purpose": "objective", "aim": "objective", "aims": "objective", "objective": "objective",
    "objectives": "objective", "method": "methods", "methods": "methods", "materials and methods": "methods",
    "patients and methods": "methods", "design": "methods", "setting": "methods",
    "result": "result", "results": "result", "findings": "result",
    "conclusion": "conclusion", "conclusions": "conclusion", "interpretation": "conclusion",
    "discussion": "conclusion", "summary": "conclusion",
}
DESIGN_CONFIDENCE = 0.6
INHERENT_SAMPLE = {"CTC": "blood", "DTC": "bone_marrow", "PSA mRNA": "blood", "EBV DNA": "plasma",
                   "cOC": "blood", "MDSC": "blood", "hemoglobin": "blood", "NLR": "blood"}
SURFACE_SAMPLE = (("u", "urine"), ("s", "serum"))
SAMPLE_WORDS = {"serum": "serum", "plasma": "plasma", "urinary": "urine", "urine": "urine", "blood": "blood"}
USUAL_SAMPLE = {"blood_count": "blood", "cell_based": "blood", "candidate": "unspecified", "microRNA": "unspecified",
                "nucleic_acid": "unspecified", "vesicle": "unspecified"}
"""The sample of a marker category where the abstract names none: counts and cells are read in blood; categories
measured in many samples stay unspecified; the others default to serum."""


@dataclass
class Relation:
    marker: str
    marker_surface: str
    category: str
    candidate: bool
    cancer: str
    use: str
    finding: str
    direction: str | None
    sample: str
    confidence: float
    sentence: str
    start: int
    end: int
    cues: list[str] = field(default_factory=list)


@dataclass
class SentenceNote:
    index: int
    text: str
    role: str
    markers: list[str]
    cancers: list[str]
    uses: dict[str, list[str]]
    outcome: str


@dataclass
class Extraction:
    relations: list[Relation]
    notes: list[SentenceNote]
    out_of_scope_reason: str | None = None
    """Why the abstract is out of scope (``relations.out_of_scope_reason``): no relation and no candidate."""


Roles = list[tuple[Span, str, str]]
"""Each sentence of a document with its role and text."""


@dataclass
class MarkerMention:
    marker: str
    surface: str
    category: str
    candidate: bool
    entity: Entity
    """The mention itself: its label and offsets."""


@dataclass
class SentenceReading:
    """A sentence with its role and what it names (in order), read once for the hand rules and the view."""

    start: int
    end: int
    """The sentence's character offsets in the document."""
    role: str
    text: str
    markers: list[MarkerMention]
    cancers: list[str]
    samples: list[Entity]
    uses: dict[str, list[str]]
    """The cue words for each use the sentence has one for."""


SENTENCE_FLAGS = (
    ("finding", "refutes"), ("finding", "unclear"), ("grammar", "statistics"), ("grammar", "comparison"),
    ("grammar", "contrast"), ("grammar", "ours"), ("sentence", "treatment_effect"), ("sentence", "background"),
    ("sentence", "methods"), ("sentence", "objective"), ("grammar", "measured"), ("context", "bone"),
    ("grammar", "up"), ("grammar", "down"), ("grammar", "change"), ("grammar", "timepoints"),
    ("grammar", "on_treatment"),
)
"""Cue groups whose names become the flags of a sentence that names or reaches a marker (read ahead in every
sentence with its other cue kinds, ``sentence_cues``)."""


def sentence_cues(lexicon: Lexicon) -> tuple[tuple[str, str], ...]:
    """Cue kinds asked of most sentences (for their roles, uses, group phrases and flags): read ahead in one pass."""
    kinds = (*(("use", use) for use in USES), ("sentence", "conclusion"), ("sentence", "objective"),
             ("grammar", "ours"), ("sentence", "background"), ("sentence", "methods"), ("grammar", "result_words"),
             ("grammar", "reported"), *(kind for kind in lexicon.combined if kind[0] == "groups"), *SENTENCE_FLAGS)
    return tuple(dict.fromkeys(kinds))


def abstract_cues(lexicon: Lexicon) -> tuple[tuple[str, str], ...]:
    """Cue kinds asked of the whole abstract: its bone context, whether it compares groups, its study design."""
    return (("context", "bone"), ("grammar", "bone_disease"), ("grammar", "compares_groups"),
            *(("design", name) for name in lexicon.cues.get("design", {})))


def out_of_scope_reason(lexicon: Lexicon, text: str, title_end: int, entities: list[Entity]) -> str | None:
    """Why an abstract cannot report a marker's use for bone metastasis, or None when it can. It must speak of bone
    involvement by a cancer: metastasis to bone or bone marrow, or the bone disease of myeloma (bone turnover in
    osteoporosis or in treatment-induced bone loss is not it). It must not be a study of a bone drug's safety: a
    title naming one of their adverse events (hypocalcaemia, osteonecrosis of the jaw) in an abstract naming a bone
    drug (denosumab, a bisphosphonate). An abstract without a title (``title_end`` 0) is never the latter."""
    if not (lexicon.has("context", "bone", text) or (
            lexicon.has("grammar", "bone_disease", text) and any(e.kb_id == "multiple_myeloma" for e in entities))):
        return "no bone-metastasis context in this abstract"
    if lexicon.has("context", "drug_safety", text[:title_end]) and lexicon.has("context", "bone_drug", text):
        return "a study of an adverse event of bone drugs, not of a marker's use"
    return None


def sorted_entities(doc: Doc) -> list[Entity]:
    """The document's entities in order, as the entity finder left them (``ENTITIES``)."""
    return doc.user_data[ENTITIES]


def sentence_roles(doc: Doc, lexicon: Lexicon, title_end: int, doc_text: str) -> Roles:
    """Each sentence with its role (title, background, objective, methods, result or conclusion) and text."""
    roles = []
    cues = sentence_cues(lexicon)
    section: str | None = None
    study_started = False

    def lexicon_cue(group: str, text: str) -> bool:
        return lexicon.has("sentence", group, text)

    for sent in doc.sents:
        text = doc_text[sent.start_char:sent.end_char].strip()
        if not text:
            continue
        lexicon.read_ahead(cues, text)
        if sent.start_char < title_end:
            roles.append((sent, "title", text))
            continue
        label = SECTION.match(text)
        if label and label.group(1).lower() in SECTION_ROLE:
            section = SECTION_ROLE[label.group(1).lower()]
        role = section or "result"
        if role == "result" and lexicon_cue("conclusion", text):
            role = "conclusion"
        aim = lexicon_cue("objective", text)
        if role == "objective" and not aim:
            role = "background"  # an Aims/Purpose section sentence that states no aim restates what is known
        elif role in ("background", "result") and aim:
            role = "objective"
        ours = lexicon.has("grammar", "ours", text)
        if role in ("result", "conclusion", "objective") and not ours and lexicon_cue("background", text):
            role = "background"
        elif role in ("result", "objective") and lexicon_cue("methods", text) and not lexicon.has(
                "grammar", "result_words", text):
            role = "methods"
        if role == "result" and section is None and not study_started and not ours \
                and not lexicon.has("grammar", "reported", text):
            role = "background"  # before an unstructured abstract states its aim: what is already known
        study_started = (study_started or role in ("objective", "methods") or section in ("result", "conclusion")
                         or ours)
        roles.append((sent, role, text))
    return roles


def read_sentences(entities: list[Entity], lexicon: Lexicon, text: str, roles: Roles) -> list[SentenceReading]:
    """Each sentence with what it names (its entities, ``sorted_entities``) and its cue words for each use,
    read once for the hand rules and the view."""
    starts = [e.start for e in entities]
    readings = []
    for sent, role, sent_text in roles:
        first, end = sent.start, sent.end
        in_sent = [e for e in entities[bisect_left(starts, first) : bisect_left(starts, end)] if e.end <= end]
        markers = [MarkerMention(e.kb_id, text[e.start_char : e.end_char], marker_category(lexicon, e.kb_id),
                                 e.candidate, e) for e in in_sent if e.label == "MARKER"]
        cancers = sorted({e.kb_id for e in in_sent if e.label == "CANCER"})
        readings.append(SentenceReading(sent.start_char, sent.end_char, role, sent_text, markers, cancers,
                                        [e for e in in_sent if e.label == "SAMPLE"],
                                        {u: c for u in USES if (c := lexicon.cue("use", u, sent_text))}))
    return readings


def find_relations(entities: list[Entity], lexicon: Lexicon, title_end: int, text: str,
                   sentences: list[SentenceReading]) -> Extraction:
    """The relations the hand rules find in one analysed abstract: its entities (``sorted_entities``), its
    text (``doc.text``) and its sentences (``read_sentences``)."""
    lexicon.read_ahead(abstract_cues(lexicon), text)
    if reason := out_of_scope_reason(lexicon, text, title_end, entities):
        return Extraction([], [], out_of_scope_reason=reason)
    compares_groups = lexicon.has("grammar", "compares_groups", text)
    review = lexicon.has("grammar", "review", text[:title_end])
    cancers_of_study = study_cancers(entities, title_end)
    usual_sample = common_sample(entities, text)
    notes: list[SentenceNote] = []
    best: dict[tuple[str, str, str], Relation] = {}
    for index, reading in enumerate(sentences):
        role, sent_text, markers, cancers = reading.role, reading.text, reading.markers, reading.cancers
        uses = reading.uses if markers else {}
        if not uses and compares_groups and role in ("result", "conclusion") and (
                comparison := lexicon.cue("grammar", "comparison", sent_text)):
            uses = {"diagnosis": [f"{comparison[0]} (study compares patients with and without bone metastases)"]}
        note = SentenceNote(index, sent_text, role, [m.marker for m in markers], cancers, uses, "")
        notes.append(note)
        if not markers:
            note.outcome = "no marker"
            continue
        if role in ("background", "methods"):
            note.outcome = f"{role} statement: not evidence from this study"
            continue
        if review and (role in ("title", "objective") or not lexicon.has("grammar", "statistics", sent_text)):
            note.outcome = "a review's statement without a reported result"
            continue
        if lexicon.has("sentence", "treatment_effect", sent_text):
            note.outcome = "about a treatment's effect, not the marker's value"
            continue
        if not uses:
            note.outcome = "no cue for a clinical use"
            continue
        targets = [c for c in cancers if c != "solid_tumors"] or cancers_of_study
        if not targets:
            note.outcome = "no cancer in the sentence or the study"
            continue
        confidence = round(min(ROLE_CONFIDENCE[role] + (
            0.1 if lexicon.has("grammar", "statistics", sent_text) else 0.0), 1.0), 2)
        made = []
        for marker in markers:
            segment = segment_at(lexicon, sent_text, marker.entity.start_char - reading.start)
            finding, direction = finding_of(lexicon, segment), direction_of(lexicon, segment)
            sample = sample_of(marker, reading.samples, usual_sample)
            for cancer in targets:
                for use, cues in uses.items():
                    key = (marker.marker, cancer, use)
                    if key not in best or confidence > best[key].confidence:  # (made only when kept)
                        best[key] = Relation(
                            marker=marker.marker, marker_surface=marker.surface, category=marker.category,
                            candidate=marker.candidate, cancer=cancer, use=use, finding=finding,
                            direction=direction, sample=sample, confidence=confidence, sentence=sent_text,
                            start=reading.start, end=reading.end, cues=cues)
                    made.append(f"{marker.marker}/{cancer}/{use}")
        note.outcome = "relations: " + ", ".join(dict.fromkeys(made))
    for relation in _design_relations(text[:title_end], lexicon, sentences, entities, cancers_of_study,
                                      usual_sample, review):
        best.setdefault((relation.marker, relation.cancer, relation.use), relation)
    relations = [r for r in best.values() if r.confidence >= MIN_CONFIDENCE]
    return Extraction(relations, notes)


def _design_relations(title: str, lexicon: Lexicon, sentences: list[SentenceReading], entities: list[Entity],
                      cancers: list[str], abstract_sample: str | None, review: bool) -> list[Relation]:
    """A title that names a use for markers in general ('bone turnover markers for monitoring ...')
    gives that use — the first it names — to each marker the methods say were measured."""
    if review or not lexicon.has("grammar", "generic_markers", title) or any(
            e.label == "MARKER" and e.start_char < len(title) for e in entities):
        return []
    found = [(m.start(), use) for use in USES if lexicon.has("use", use, title)  # (each pattern only where one is)
             for p in lexicon.cues["use"][use] if (m := p.search(title))]
    if not found or not cancers:
        return []
    use = min(found)[1]
    relations = []
    for reading in sentences:
        sent_text = reading.text
        if reading.role != "methods" or not lexicon.has("grammar", "measured", sent_text):
            continue
        for mention in reading.markers:
            if mention.candidate:
                continue
            for cancer in cancers:
                relations.append(Relation(
                    marker=mention.marker, marker_surface=mention.surface, category=mention.category,
                    candidate=False, cancer=cancer, use=use, finding="unclear", direction=None,
                    sample=sample_of(mention, [], abstract_sample), confidence=DESIGN_CONFIDENCE,
                    sentence=sent_text, start=reading.start, end=reading.end,
                    cues=[f"study design: the title names {use} for the markers measured"]))
    return relations


def study_cancers(entities: list[Entity], title_end: int) -> list[str]:
    """The cancers the study is about: the title's, or else the most named in the abstract."""
    cancers = [e for e in entities if e.label == "CANCER"]
    in_title = {e.kb_id for e in cancers if e.start_char < title_end}
    if in_title - {"solid_tumors"}:
        return sorted(in_title - {"solid_tumors"})
    if in_title:
        return ["solid_tumors"]
    counts = Counter(e.kb_id for e in cancers if e.kb_id != "solid_tumors")
    if not counts:
        return ["solid_tumors"]
    if len(counts) >= 3:
        return ["solid_tumors"]
    top = max(counts.values())
    return sorted(c for c, n in counts.items() if n * 2 >= top)


def segment_at(lexicon: Lexicon, text: str, offset: int) -> str:
    """The part of the sentence (at the marker's offset) the marker belongs to, cut at contrast words."""
    cuts = [0, *lexicon.cue_starts("grammar", "contrast", text), len(text)]
    for a, b in zip(cuts, cuts[1:], strict=False):
        if a <= offset < b:
            return text[a:b]
    return text


def finding_of(lexicon: Lexicon, segment: str) -> str:
    if lexicon.has("finding", "refutes", segment):
        return "refutes"
    if lexicon.has("finding", "unclear", segment) and not lexicon.has("grammar", "statistics", segment):
        return "unclear"
    return "supports"


def direction_of(lexicon: Lexicon, segment: str) -> str | None:
    up, down = lexicon.has("grammar", "up", segment), lexicon.has("grammar", "down", segment)
    if up and not down:
        return "elevated"
    if down and not up:
        return "reduced"
    return None


def marker_category(lexicon: Lexicon, marker: str) -> str:
    if marker in lexicon.markers:
        return lexicon.markers[marker].category
    return "microRNA" if marker.lower().startswith(("mir-", "let-")) else "candidate"


def common_sample(entities: list[Entity], text: str) -> str | None:
    """The sample the abstract (its text) names most (also as the first word of a marker: 'serum osteoprotegerin')."""
    counts = Counter(e.kb_id for e in entities if e.label == "SAMPLE" and e.kb_id != "tissue")
    counts.update(SAMPLE_WORDS[w] for e in entities if e.label == "MARKER"
                  and " " in (surface := text[e.start_char : e.end_char])
                  and (w := surface.split()[0].lower()) in SAMPLE_WORDS)
    return counts.most_common(1)[0][0] if counts else None


def sample_of(marker: MarkerMention, samples: list[Entity], abstract_sample: str | None) -> str:
    """The sample a marker was measured in: its own, the one its name says, the nearest its sentence
    names (``samples``), the abstract's, or the usual one for its category."""
    if marker.marker in INHERENT_SAMPLE:
        return INHERENT_SAMPLE[marker.marker]
    surface = marker.surface
    for prefix, sample in SURFACE_SAMPLE:
        if surface.startswith(prefix) and surface[1:2].isupper():
            return sample
    first_word = surface.split()[0].lower() if " " in surface else ""
    if first_word in SAMPLE_WORDS:
        return SAMPLE_WORDS[first_word]
    if samples:
        start = marker.entity.start
        nearest = min(samples, key=lambda s: abs(s.start - start))
        return nearest.kb_id
    if abstract_sample:
        return abstract_sample
    return USUAL_SAMPLE.get(marker.category, "serum")
