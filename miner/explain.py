"""`miner explain`: how one abstract was read, for a reviewer auditing a row or a silent abstract."""

from __future__ import annotations

from spacy.language import Language

from miner.config import Settings
from miner.eutils import EutilsClient
from miner.nlp.pipeline import analyse
from miner.pubmed import Article, parse_bytes
from miner.store import Abstract, Store, StoreError


def load_article(settings: Settings, pmid: str | None = None, text: str | None = None) -> Abstract:
    """The article to explain: given text, a stored article, or one fetched from PubMed."""
    if text is not None:
        title, _, abstract = text.partition("\n")
        return Abstract("text", title, abstract)
    assert pmid is not None
    if settings.db.exists():
        try:
            stored = Store(settings.db, write=False).articles.text(pmid)
        except StoreError:
            stored = None
        if stored:
            return stored
    client = EutilsClient(settings)
    for xml in client.efetch_ids([pmid]):
        for record in parse_bytes(xml):
            if isinstance(record, Article) and record.pmid == pmid:
                return Abstract(pmid, record.title, record.abstract)
    raise StoreError(f"PMID {pmid} is neither stored in {settings.db} nor found in PubMed")


def explain_article(nlp: Language, article: Abstract, features_shown: int = 4) -> str:
    """How the pipeline read one abstract: entities, sentences and cues, every candidate relation with its
    score and the features that weighed most, and the relations stored."""
    result = next(analyse(nlp, [article]))
    doc, extraction, view = result.doc, result.extraction, result.view
    model = nlp.get_pipe("miner_relations").model
    lines = [f"PMID {article.pmid}: {article.title}", "", "Entities (surface → canonical [label] via source):"]
    for span in doc.spans["entities"]:
        flag = " (candidate, not in the lexicon)" if span._.candidate else ""
        lines.append(f"  {span.text!r} → {span.kb_id_} [{span.label_}] via {span._.source}{flag}")
    if len(doc.spans["rejected"]):
        lines.append("Rejected mentions:")
        for span in doc.spans["rejected"]:
            lines.append(f"  {span.text!r} as {span.kb_id_} [{span.label_}]: {span._.reason}")
    abbreviations = {(a["short"], a["long"]) for a in doc._.abbreviations}
    if abbreviations:
        lines.append("Abbreviations defined: " + "; ".join(f"{s} = {lf}" for s, lf in sorted(abbreviations)))
    lines += ["", "Sentences (role; markers named, or reached through a group phrase; cues for each use):"]
    outcomes = {note.index: note.outcome for note in extraction.notes}
    for sentence in view.sentences:
        lines.append(f"  [{sentence.index}] ({sentence.role}) {sentence.text}")
        named = [m.marker for m in sentence.markers]
        grouped = [f"{m} (via {phrase!r})" for m, phrase in sentence.groups.items() if m not in named]
        if named or grouped:
            lines.append(f"      markers: {', '.join(dict.fromkeys(named + grouped))}; "
                         f"cancers: {', '.join(sentence.cancers) or '-'}")
        if sentence.uses:
            lines.append("      cues: " + "; ".join(f"{u}: {', '.join(c)}" for u, c in sentence.uses.items()))
        if outcomes.get(sentence.index) and named:
            lines.append(f"      hand rules → {outcomes[sentence.index]}")
    if extraction.out_of_scope_reason:
        lines.append(f"  hand rules: {extraction.out_of_scope_reason}")
    if view.flags:
        lines.append("Abstract: " + ", ".join(sorted(view.flags)))
    lines += ["", f"Candidates (probability; stored at {model.threshold:.3f} or more; the features that weighed "
                  f"most among those that set it apart from the abstract's other candidates, as feature=weight):"]
    if not result.scored:
        lines.append(f"  none: {view.out_of_scope_reason or 'no marker measured'}")
    shared = set.intersection(*(set(s.features.items()) for s in result.scored)) if result.scored else set()
    for scored in sorted(result.scored, key=lambda s: -s.probability):
        c = scored.candidate
        mark = "stored" if any((r.marker, r.cancer, r.use) == (c.marker, c.cancer, c.use)
                               for r in extraction.relations) else "  -   "
        own = {name: value for name, value in scored.features.items() if (name, value) not in shared}
        weights = ", ".join(f"{name}={value:+.2f}" for name, value in model.contributions(own, features_shown))
        lines.append(f"  {scored.probability:.2f} {mark} {c.marker} | {c.cancer} | {c.use}   {weights}")
    lines += ["", "Relations stored:"]
    if not extraction.relations:
        lines.append("  none")
    for r in sorted(extraction.relations, key=lambda r: (r.marker, r.cancer, r.use)):
        lines.append(f"  {r.marker} | {r.cancer} | {r.use} | {r.finding} | {r.direction or '-'} | {r.sample} | "
                     f"confidence {r.confidence:.2f} | cues: {', '.join(r.cues) or '-'}")
    return "\n".join(lines)
