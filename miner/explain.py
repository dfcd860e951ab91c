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


def explain_article(nlp: Language, article: Abstract) -> str:
    result = next(analyse(nlp, [article]))
    doc, extraction = result.doc, result.extraction
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
    if extraction.quiet_reason:
        lines += ["", f"No relations: {extraction.quiet_reason}."]
        return "\n".join(lines)
    lines += ["", "Sentences:"]
    for note in extraction.notes:
        cues = "; ".join(f"{use}: {', '.join(c)}" for use, c in note.uses.items())
        lines.append(f"  [{note.index}] ({note.role}) {note.text}")
        if note.markers:
            lines.append(f"      markers: {', '.join(note.markers)}; cancers: {', '.join(note.cancers) or '-'}")
            lines.append(f"      cues: {cues or '-'}")
            lines.append(f"      → {note.outcome}")
    lines += ["", "Relations:"]
    if not extraction.relations:
        lines.append("  none")
    for r in sorted(extraction.relations, key=lambda r: (r.marker, r.cancer, r.use)):
        lines.append(f"  {r.marker} | {r.cancer} | {r.use} | {r.finding} | {r.direction or '-'} | {r.sample} | "
                     f"confidence {r.confidence:.2f} | cues: {', '.join(r.cues)}")
    return "\n".join(lines)
