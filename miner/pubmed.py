"""PubMed records: PubmedArticleSet XML (efetch replies, baseline and update files) → plain objects.

The stream is cut into one piece per record before any XML parsing, so memory stays bounded on a
150 MB baseline file and one malformed record is reported and skipped while the rest are read.
Each piece is parsed on its own by ElementTree (expat), which never resolves external entities.
MEDLINE text (``.txt``/``.nbib``) is read with Biopython's Bio.Medline into the same objects.
No network, no database.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import IO, BinaryIO

from miner.config import load_defaults

MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
RETRACTED = "Retracted Publication"
MATHML = "{http://www.w3.org/1998/Math/MathML}"
_ADDED_FIELDS = frozenset({"expression_of_concern_in"})
_TOKEN = re.compile(rb"<(!--|!\[CDATA\[|\?|!DOCTYPE|!ENTITY|(/?)"
                    rb"(PubmedArticleSet|PubmedArticle|PubmedBookArticle|DeleteCitation)(?=[\s/>]))")
"""The markup the record scanner looks at: what hides text from XML, and the record tags."""
_TOKEN_MAX = 32
_SKIPPED = {b"!--": b"-->", b"![CDATA[": b"]]>", b"?": b"?>", b"!DOCTYPE": b">"}
_PMID = re.compile(rb"<PMID[^>]*>\s*(\d+)")
_ENTITIES_REFUSED = "documents that declare entities (a DTD internal subset) are refused"
_CHUNK = 1 << 20


class SourceError(Exception):
    """A whole source is unreadable: missing, not PubMed XML, or a corrupt gzip stream."""


@dataclass
class MeshHeading:
    descriptor: str
    major: bool


@dataclass
class Article:
    """One PubMed citation, as plain data.

    ``retraction_of`` holds the PMIDs a retraction notice retracts; ``retracted_by`` and
    ``expression_of_concern_in`` the notices about this article: their PMIDs, or their citations
    when a notice has no PMID.
    """

    pmid: str
    version: int = 1
    title: str = ""
    abstract: str = ""
    journal: str = ""
    journal_iso: str = ""
    year: int | None = None
    pub_date: str = ""
    authors: list[str] = field(default_factory=list)
    doi: str | None = None
    pmcid: str | None = None
    mesh: list[MeshHeading] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    publication_types: list[str] = field(default_factory=list)
    language: str = ""
    date_revised: str | None = None
    entrez_date: str | None = None
    retraction_of: list[str] = field(default_factory=list)
    retracted_by: list[str] = field(default_factory=list)
    expression_of_concern_in: list[str] = field(default_factory=list)

    @property
    def has_abstract(self) -> bool:
        return bool(self.abstract.strip())

    @property
    def retracted(self) -> bool:
        return RETRACTED in self.publication_types or bool(self.retracted_by)

    def content_hash(self) -> str:
        """A hash of everything the record says; equal hashes mean nothing to update.

        A field added after databases were built counts only when it is set, so that adding it does not
        make every stored article look revised.
        """
        data = json.dumps({k: v for k, v in asdict(self).items() if v or k not in _ADDED_FIELDS},
                          sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(data.encode("utf-8")).hexdigest()[:32]


@dataclass
class Deletion:
    """A DeleteCitation entry of an update file: these PMIDs left PubMed."""

    pmids: list[str]


@dataclass
class BookSkipped:
    """A PubmedBookArticle, which miner does not store."""

    pmid: str


@dataclass
class RecordError:
    """A record that could not be read; the others in its source are unaffected."""

    index: int
    pmid: str | None
    message: str


Record = Article | Deletion | BookSkipped | RecordError


# -- splitting a stream into records ------------------------------------------------------------
def open_source(path: Path) -> BinaryIO:
    """A file opened for reading, gunzipped when it is gzip (by content, not by name)."""
    try:
        fh: BinaryIO = path.open("rb")
    except OSError as exc:
        raise SourceError(f"{path}: {exc.strerror or exc}") from None
    if fh.read(2) == b"\x1f\x8b":
        fh.seek(0)
        return gzip.GzipFile(fileobj=fh)  # type: ignore[return-value]
    fh.seek(0)
    return fh


@cache
def default_record_limit() -> int:
    """Bytes one record may take (``[pubmed] max_record_mb`` in corpora/defaults.toml)."""
    return int(float(load_defaults()["pubmed"]["max_record_mb"]) * 1_000_000)


def split_records(stream: BinaryIO, max_record_bytes: int | None = None) -> Iterator[bytes | RecordError]:
    """The raw bytes of each PubmedArticle, PubmedBookArticle and DeleteCitation in the stream.

    The stream is scanned as XML markup, not as bytes: comments, CDATA sections and processing
    instructions are stepped over, so record-like text inside them is neither a record nor a record's
    end. A document that declares entities (a DTD internal subset) is refused. A record whose end tag
    is missing ends where the next record starts; that piece is yielded as it is and fails to parse on
    its own. A record longer than ``max_record_bytes`` becomes a RecordError and is skipped, so memory
    stays bounded whatever the input.
    """
    limit = max_record_bytes or default_record_limit()
    buffer = b""
    pos = 0  # where scanning goes on
    start: int | None = None  # where the open record starts
    tag = b""  # the open record's element name
    closer: bytes | None = None  # the end of the comment, CDATA section, PI or DOCTYPE being skipped
    in_doctype = False
    seen_set = False
    index = 0
    eof = False
    while True:
        if closer is not None:
            found = buffer.find(closer, pos)
            if in_doctype and b"[" in buffer[pos : found if found != -1 else len(buffer)]:
                raise SourceError(_ENTITIES_REFUSED)
            if found != -1:
                pos, closer, in_doctype = found + len(closer), None, False
                continue
            pos = max(pos, len(buffer) - len(closer) + 1)
            token = None
        else:
            token = _TOKEN.search(buffer, pos)
            if token is None:
                pos = max(pos, len(buffer) - _TOKEN_MAX)
        if token is not None:
            kind = token.group(1)
            if kind in _SKIPPED:
                closer, in_doctype, pos = _SKIPPED[kind], kind == b"!DOCTYPE", token.end()
                continue
            if kind == b"!ENTITY":
                raise SourceError(_ENTITIES_REFUSED)
            name = token.group(3)
            pos = token.end()
            if name == b"PubmedArticleSet":
                seen_set = True
            elif not token.group(2):  # a record starts
                seen_set = True
                if start is not None:
                    yield buffer[start : token.start()]
                    index += 1
                start, tag = token.start(), name
            elif start is not None and name == tag:  # the open record ends
                close = buffer.find(b">", pos)
                if close == -1:
                    pos = token.start()
                    token = None
                else:
                    pos = close + 1
                    yield buffer[start:pos]
                    index += 1
                    start = None
            if token is not None:
                continue
        # more data is needed
        if start is not None and len(buffer) - start > limit:
            yield RecordError(index, _pmid_of(buffer[start : start + 65536]),
                              f"record longer than {limit / 1e6:g} MB: its end tag is missing or it is too large "
                              "(skipped)")
            index += 1
            start = None
        if eof:
            break
        keep = start if start is not None else max(0, min(pos, len(buffer) - _TOKEN_MAX))
        buffer, pos = buffer[keep:], pos - keep
        if start is not None:
            start = 0
        try:
            data = stream.read(_CHUNK)
        except (OSError, EOFError) as exc:
            raise SourceError(f"corrupt compressed data: {exc}") from None
        if not data:
            eof = True
            if closer is None and start is None:
                break
            if start is not None and closer is not None:
                closer = None
                pos = len(buffer)
        buffer += data
    if start is not None:
        yield buffer[start:]
    if not seen_set:
        raise SourceError("not PubMed XML (no PubmedArticleSet)")


def _pmid_of(raw: bytes) -> str | None:
    found = _PMID.search(raw)
    return found.group(1).decode() if found else None


def parse_stream(stream: BinaryIO, max_record_bytes: int | None = None) -> Iterator[Record]:
    for index, piece in enumerate(split_records(stream, max_record_bytes)):
        yield piece if isinstance(piece, RecordError) else parse_record(piece, index)


def parse_bytes(data: bytes, max_record_bytes: int | None = None) -> Iterator[Record]:
    from io import BytesIO

    return parse_stream(BytesIO(data), max_record_bytes)


def parse_file(path: Path, max_record_bytes: int | None = None) -> Iterator[Record]:
    """Records of a PubMed XML (optionally gzipped) or MEDLINE text file."""
    if path.suffix.lower() in (".txt", ".nbib", ".medline"):
        try:
            with path.open(encoding="utf-8") as fh:
                yield from parse_medline(fh)
        except OSError as exc:
            raise SourceError(f"{path}: {exc.strerror or exc}") from None
        return
    with open_source(path) as stream:
        yield from parse_stream(stream, max_record_bytes)


def parse_record(raw: bytes, index: int = 0) -> Record:
    pmid = _pmid_of(raw)
    try:
        elem = ET.fromstring(raw)
    except ET.ParseError as exc:
        return RecordError(index, pmid, f"malformed XML: {exc}")
    if b"MathML" in raw:
        tidy_mathml(elem)
    try:
        if elem.tag == "DeleteCitation":
            return Deletion([text(p) for p in elem.iter("PMID") if text(p)])
        if elem.tag == "PubmedBookArticle":
            return BookSkipped(pmid or "")
        return article_from_element(elem)
    except ValueError as exc:
        return RecordError(index, pmid, str(exc))


# -- one PubmedArticle ---------------------------------------------------------------------------
def text(elem: ET.Element | None) -> str:
    """All text inside an element, inline markup (<i>, <sup>, <sub>, ...) kept as plain text."""
    if elem is None:
        return ""
    return " ".join("".join(elem.itertext()).split())


def tidy_mathml(elem: ET.Element) -> None:
    """Make MathML read as plain text: drop its layout whitespace and its accents (the dot of V̇O2),
    write fractions with a slash.

    Each token of a formula is an element of its own, laid out on lines of its own; without this the
    text would read "V . O 2 m a x" instead of "VO2max".
    """
    for math in elem.iter(f"{MATHML}math"):
        if math.text is not None and not math.text.strip():
            math.text = None
        for node in math.iter():
            if node is not math:
                if node.text is not None and not node.text.strip():
                    node.text = None
                if node.tail is not None and not node.tail.strip():
                    node.tail = None
            if node.tag == f"{MATHML}mover" and len(node) == 2 and node[1].tag == f"{MATHML}mo":
                node.remove(node[1])
            elif node.tag == f"{MATHML}mfrac" and len(node) == 2:
                node[0].tail = "/"


def reference_notices(corrections: list[ET.Element], ref_type: str) -> list[str]:
    """The notices of one kind (RetractionIn, ExpressionOfConcernIn): their PMIDs, or their citations
    (RefSource) when they have no PMID."""
    return [n for c in corrections if c.get("RefType") == ref_type
            if (n := text(c.find("PMID")) or text(c.find("RefSource")) or ref_type)]


def article_from_element(elem: ET.Element) -> Article:
    citation = elem.find("MedlineCitation")
    if citation is None:
        raise ValueError("no MedlineCitation")
    pmid_elem = citation.find("PMID")
    pmid = text(pmid_elem)
    if not pmid.isdigit():
        raise ValueError("no PMID")
    art = citation.find("Article")
    if art is None:
        raise ValueError(f"PMID {pmid}: no Article element")
    journal = art.find("Journal")
    issue_date = journal.find("JournalIssue/PubDate") if journal is not None else None
    year, pub_date = publication_date(issue_date)
    if year is None:
        year, pub_date = publication_date(art.find("ArticleDate"))
    ids = {a.get("IdType"): text(a) for a in elem.findall("PubmedData/ArticleIdList/ArticleId")}
    doi = ids.get("doi") or next(
        (text(e) for e in art.findall("ELocationID") if e.get("EIdType") == "doi"), None
    )
    corrections = citation.findall("CommentsCorrectionsList/CommentsCorrections")
    return Article(
        pmid=pmid,
        version=int(pmid_elem.get("Version", "1") or 1) if pmid_elem is not None else 1,
        title=text(art.find("ArticleTitle")) or text(art.find("VernacularTitle")),
        abstract=abstract_text(art.find("Abstract")),
        journal=text(journal.find("Title")) if journal is not None else "",
        journal_iso=text(journal.find("ISOAbbreviation")) if journal is not None else "",
        year=year,
        pub_date=pub_date,
        authors=[a for a in (author_name(au) for au in art.findall("AuthorList/Author")) if a],
        doi=doi or None,
        pmcid=ids.get("pmc") or None,
        mesh=[
            MeshHeading(text(d), d.get("MajorTopicYN") == "Y"
                        or any(q.get("MajorTopicYN") == "Y" for q in h.findall("QualifierName")))
            for h in citation.findall("MeshHeadingList/MeshHeading")
            if (d := h.find("DescriptorName")) is not None
        ],
        keywords=[text(k) for k in citation.findall("KeywordList/Keyword") if text(k)],
        publication_types=[text(p) for p in art.findall("PublicationTypeList/PublicationType")],
        language=" ".join(t for lang in art.findall("Language") if (t := text(lang))),
        date_revised=iso_date(citation.find("DateRevised")),
        entrez_date=next(
            (iso_date(d) for d in elem.findall("PubmedData/History/PubMedPubDate")
             if d.get("PubStatus") == "entrez"), None),
        retraction_of=[text(c.find("PMID")) for c in corrections
                       if c.get("RefType") == "RetractionOf" and text(c.find("PMID"))],
        retracted_by=reference_notices(corrections, "RetractionIn"),
        expression_of_concern_in=reference_notices(corrections, "ExpressionOfConcernIn"),
    )


def abstract_text(abstract: ET.Element | None) -> str:
    """The abstract; sections of a structured abstract keep their labels, one a line."""
    if abstract is None:
        return ""
    parts = []
    for section in abstract.findall("AbstractText"):
        body = text(section)
        label = section.get("Label")
        parts.append(f"{label}: {body}" if label and body else body)
    return "\n".join(p for p in parts if p)


def author_name(author: ET.Element) -> str:
    collective = text(author.find("CollectiveName"))
    if collective:
        return collective
    last, initials = text(author.find("LastName")), text(author.find("Initials"))
    return f"{last} {initials}".strip()


def publication_date(elem: ET.Element | None) -> tuple[int | None, str]:
    """(year, date as 'YYYY', 'YYYY-MM' or 'YYYY-MM-DD', or MedlineDate text as it stands)."""
    if elem is None:
        return None, ""
    medline = text(elem.find("MedlineDate"))
    if medline:
        found = re.search(r"\b(1[789]\d\d|20\d\d)\b", medline)
        return (int(found.group(1)) if found else None), medline
    year_text = text(elem.find("Year"))
    if not year_text.isdigit():
        return None, ""
    parts = [year_text]
    month = month_number(text(elem.find("Month")))
    if month:
        parts.append(f"{month:02d}")
        day = text(elem.find("Day"))
        if day.isdigit():
            parts.append(f"{int(day):02d}")
    return int(year_text), "-".join(parts)


def month_number(value: str) -> int | None:
    if value.isdigit() and 1 <= int(value) <= 12:
        return int(value)
    return MONTHS.get(value[:3].lower())


def iso_date(elem: ET.Element | None) -> str | None:
    if elem is None:
        return None
    year, value = publication_date(elem)
    return value if year else None


# -- MEDLINE text --------------------------------------------------------------------------------
def parse_medline(handle: IO[str]) -> Iterator[Record]:
    """Records of a MEDLINE-format text file (PubMed's 'Save as PubMed format')."""
    from Bio import Medline

    for index, rec in enumerate(Medline.parse(handle)):
        pmid = rec.get("PMID", "")
        if not pmid.isdigit():
            yield RecordError(index, None, "MEDLINE record without PMID")
            continue
        year_match = re.match(r"(\d{4})", rec.get("DP", ""))
        yield Article(
            pmid=pmid,
            title=rec.get("TI", ""),
            abstract=rec.get("AB", ""),
            journal=rec.get("JT", ""),
            journal_iso=rec.get("TA", ""),
            year=int(year_match.group(1)) if year_match else None,
            pub_date=rec.get("DP", ""),
            authors=list(rec.get("AU", [])),
            doi=next((a.split()[0] for a in _as_list(rec.get("AID")) if a.endswith("[doi]")), None),
            pmcid=rec.get("PMC") or None,
            mesh=[MeshHeading(m.split("/")[0].lstrip("*"), "*" in m) for m in _as_list(rec.get("MH"))],
            keywords=[k.lstrip("*") for k in _as_list(rec.get("OT"))],
            publication_types=_as_list(rec.get("PT")),
            language=" ".join(_as_list(rec.get("LA"))),
            date_revised=_medline_date(rec.get("LR")),
            entrez_date=_medline_date(rec.get("EDAT")),
            retraction_of=[n for n in _medline_notices(rec.get("ROF")) if n.isdigit()],
            retracted_by=_medline_notices(rec.get("RIN")),
            expression_of_concern_in=_medline_notices(rec.get("ECI")),
        )


def _as_list(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _medline_notices(value: str | list[str] | None) -> list[str]:
    """PMIDs of MEDLINE's comment fields ("J Bone. 2020;1:2. PMID: 123"), or the citation without one."""
    return [found.group(1) if (found := re.search(r"PMID:\s*(\d+)", v)) else v.strip() for v in _as_list(value)]


def _medline_date(value: str | None) -> str | None:
    if not value:
        return None
    digits = re.sub(r"\D", "", value.split()[0])
    if len(digits) >= 8:
        return f"{digits[:4]}-{digits[4:6]}-{digits[6:8]}"
    return None
