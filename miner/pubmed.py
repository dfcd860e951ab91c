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
from pathlib import Path
from typing import IO, BinaryIO

MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
RETRACTED = "Retracted Publication"
_START = re.compile(rb"<(PubmedArticle|PubmedBookArticle|DeleteCitation)[\s>]")
_CHUNK = 1 << 20


class SourceError(Exception):
    """A whole source is unreadable: missing, not PubMed XML, or a corrupt gzip stream."""


@dataclass
class MeshHeading:
    descriptor: str
    major: bool


@dataclass
class Article:
    """One PubMed citation, as plain data."""

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

    @property
    def has_abstract(self) -> bool:
        return bool(self.abstract.strip())

    @property
    def retracted(self) -> bool:
        return RETRACTED in self.publication_types or bool(self.retracted_by)

    def content_hash(self) -> str:
        """A hash of everything the record says; equal hashes mean nothing to update."""
        data = json.dumps(asdict(self), sort_keys=True, ensure_ascii=False)
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


def split_records(stream: BinaryIO) -> Iterator[bytes]:
    """The raw bytes of each PubmedArticle, PubmedBookArticle and DeleteCitation in the stream.

    A record whose end tag is missing ends where the next record starts; that piece is yielded as
    it is and fails to parse on its own.
    """
    buffer = b""
    seen_set = False
    while True:
        try:
            data = stream.read(_CHUNK)
        except (OSError, EOFError) as exc:
            raise SourceError(f"corrupt compressed data: {exc}") from None
        buffer += data
        if not seen_set:
            seen_set = b"<PubmedArticleSet" in buffer or _START.search(buffer) is not None
        while True:
            start = _START.search(buffer)
            if not start:
                buffer = buffer[-64:] if data else b""
                break
            tag = start.group(1)
            end_tag = b"</" + tag + b">"
            end = buffer.find(end_tag, start.end())
            following = _START.search(buffer, start.end())
            if end != -1 and (following is None or following.start() > end):
                stop = end + len(end_tag)
                yield buffer[start.start() : stop]
                buffer = buffer[stop:]
            elif following is not None:
                yield buffer[start.start() : following.start()]
                buffer = buffer[following.start() :]
            elif not data:
                yield buffer[start.start() :]
                buffer = b""
                break
            else:
                buffer = buffer[start.start() :]
                break
        if not data:
            break
    if not seen_set:
        raise SourceError("not PubMed XML (no PubmedArticleSet)")


def parse_stream(stream: BinaryIO) -> Iterator[Record]:
    for index, raw in enumerate(split_records(stream)):
        yield parse_record(raw, index)


def parse_bytes(data: bytes) -> Iterator[Record]:
    from io import BytesIO

    return parse_stream(BytesIO(data))


def parse_file(path: Path) -> Iterator[Record]:
    """Records of a PubMed XML (optionally gzipped) or MEDLINE text file."""
    if path.suffix.lower() in (".txt", ".nbib", ".medline"):
        try:
            with path.open(encoding="utf-8") as fh:
                yield from parse_medline(fh)
        except OSError as exc:
            raise SourceError(f"{path}: {exc.strerror or exc}") from None
        return
    with open_source(path) as stream:
        yield from parse_stream(stream)


def parse_record(raw: bytes, index: int = 0) -> Record:
    pmid_match = re.search(rb"<PMID[^>]*>\s*(\d+)", raw)
    pmid = pmid_match.group(1).decode() if pmid_match else None
    try:
        elem = ET.fromstring(raw)
    except ET.ParseError as exc:
        return RecordError(index, pmid, f"malformed XML: {exc}")
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
        language=text(art.find("Language")),
        date_revised=iso_date(citation.find("DateRevised")),
        entrez_date=next(
            (iso_date(d) for d in elem.findall("PubmedData/History/PubMedPubDate")
             if d.get("PubStatus") == "entrez"), None),
        retraction_of=[text(c.find("PMID")) for c in corrections
                       if c.get("RefType") == "RetractionOf" and text(c.find("PMID"))],
        retracted_by=[text(c.find("PMID")) for c in corrections
                      if c.get("RefType") == "RetractionIn" and text(c.find("PMID"))],
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
        )


def _as_list(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _medline_date(value: str | None) -> str | None:
    if not value:
        return None
    digits = re.sub(r"\D", "", value.split()[0])
    if len(digits) >= 8:
        return f"{digits[:4]}-{digits[4:6]}-{digits[6:8]}"
    return None
