"""A local stand-in for NCBI's E-utilities, for tests and benchmarks on machines without PubMed.

It serves PubMed XML over real HTTP on a loopback port: esearch (date windows, the history server,
the 9,999-record cap), efetch (by WebEnv or by POSTed ids), and faults on demand: 429 with NCBI's
JSON body and Retry-After, 500/502/503, slow replies, truncated replies, malformed XML, a hung
service ("hang": the connection is accepted and the request read, and no reply ever comes) and one
that answers a byte at a time ("trickle"). Every
request is logged with its time, so tests can count requests and measure the rate.
"""

from __future__ import annotations

import contextlib
import html
import json
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

CAP = 9999
ESEARCH_DOCTYPE = ('<!DOCTYPE eSearchResult PUBLIC "-//NLM//DTD esearch 20060628//EN" '
                   '"https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20060628/esearch.dtd">')


@dataclass
class StoredRecord:
    pmid: str
    xml: str
    edat: date
    mdat: date
    text: str = ""


@dataclass
class LoggedRequest:
    endpoint: str
    params: dict[str, str]
    at: float


@dataclass
class StandIn:
    """The server's state: records, queued faults, the request log."""

    records: dict[str, StoredRecord] = field(default_factory=dict)
    faults: list[str] = field(default_factory=list)
    always: str | None = None
    log: list[LoggedRequest] = field(default_factory=list)
    histories: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def add(self, pmid: str, xml: str, edat: date, mdat: date | None = None, text: str = "") -> None:
        self.records[pmid] = StoredRecord(pmid, xml, edat, mdat or edat, text or xml)

    def remove(self, pmid: str) -> None:
        self.records.pop(pmid, None)

    def requests_to(self, endpoint: str) -> int:
        return sum(r.endpoint == endpoint for r in self.log)

    def next_fault(self) -> str | None:
        with self.lock:
            if self.faults:
                return self.faults.pop(0)
        return self.always

    # -- E-utilities ---------------------------------------------------------------------------
    def search(self, params: dict[str, str]) -> list[str]:
        term = params.get("term", "")
        datetype = params.get("datetype", "edat")
        low = _day(params.get("mindate"))
        high = _day(params.get("maxdate"))
        words = [w.lower() for w in term.replace("(", " ").replace(")", " ").split()
                 if w.upper() not in ("AND", "OR", "NOT") and "[" not in w and w != "*"]
        hits = []
        for rec in self.records.values():
            day = rec.mdat if datetype == "mdat" else rec.edat
            if (low and day < low) or (high and day > high):
                continue
            if words and not any(w.strip('"') in rec.text.lower() for w in words):
                continue
            hits.append(rec.pmid)
        return sorted(hits, key=int, reverse=True)

    def esearch(self, params: dict[str, str]) -> tuple[int, str]:
        term = params.get("term", "")
        if "INVALIDQUERY" in term:
            return 200, _esearch_error("Invalid query")
        ids = self.search(params)
        retstart, retmax = int(params.get("retstart", 0)), int(params.get("retmax", 20))
        if retstart + min(retmax, 1) > CAP:
            return 200, _esearch_error(
                f"Search Backend failed: retstart {retstart} is larger than {CAP - 1}")
        history = ""
        if params.get("usehistory") == "y":
            webenv, key = f"MCID_{uuid.uuid4().hex[:24]}", "1"
            self.histories[(webenv, key)] = ids
            history = f"<QueryKey>{key}</QueryKey><WebEnv>{webenv}</WebEnv>"
        shown = ids[retstart : retstart + min(retmax, CAP)]
        errors = "" if ids else f"<ErrorList><PhraseNotFound>{html.escape(term)}</PhraseNotFound></ErrorList>"
        body = (f'<?xml version="1.0" encoding="UTF-8" ?>\n{ESEARCH_DOCTYPE}\n<eSearchResult>'
                f"<Count>{len(ids)}</Count><RetMax>{len(shown)}</RetMax><RetStart>{retstart}</RetStart>"
                f"{history}<IdList>{''.join(f'<Id>{i}</Id>' for i in shown)}</IdList>"
                f"<TranslationSet/><QueryTranslation>{html.escape(term)}</QueryTranslation>{errors}"
                "</eSearchResult>\n")
        return 200, body

    def efetch(self, params: dict[str, str]) -> tuple[int, str]:
        if "id" in params:
            ids = [i for i in params["id"].split(",") if i]
        else:
            ids = self.histories.get((params.get("WebEnv", ""), params.get("query_key", "")))
            if ids is None:
                return 200, "<eFetchResult><ERROR>Unable to obtain query #1</ERROR></eFetchResult>"
            retstart, retmax = int(params.get("retstart", 0)), int(params.get("retmax", 20))
            if retstart >= CAP:
                return 200, ("<eFetchResult><ERROR>Search Backend failed: Exception: retstart "
                             f"cannot be larger than {CAP - 1}</ERROR></eFetchResult>")
            ids = ids[retstart : retstart + retmax]
        return 200, pubmed_set(self.records[i].xml for i in ids if i in self.records)


def pubmed_set(records: Iterable[str]) -> str:
    return ('<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, '
            '1st January 2025//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n'
            "<PubmedArticleSet>\n" + "\n".join(records) + "\n</PubmedArticleSet>\n")


def _esearch_error(message: str) -> str:
    return (f'<?xml version="1.0" encoding="UTF-8" ?>\n{ESEARCH_DOCTYPE}\n'
            f"<eSearchResult><ERROR>{html.escape(message)}</ERROR></eSearchResult>\n")


def _day(value: str | None) -> date | None:
    if not value:
        return None
    y, m, d = (int(x) for x in value.split("/"))
    return date(y, m, d)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, *_args: object) -> None:
        pass

    def handle(self) -> None:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            super().handle()

    def do_GET(self) -> None:
        self._answer(parse_qs(urlparse(self.path).query))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        self._answer(parse_qs(self.rfile.read(length).decode()))

    def _answer(self, query: dict[str, list[str]]) -> None:
        state = self.server.state
        endpoint = urlparse(self.path).path.rstrip("/").rsplit("/", 1)[-1].removesuffix(".fcgi")
        params = {k: v[-1] for k, v in query.items()}
        with state.lock:
            state.log.append(LoggedRequest(endpoint, params, time.monotonic()))
        fault = state.next_fault()
        if fault == "429":
            body = json.dumps({"error": "API rate limit exceeded", "api-key": "127.0.0.1",
                               "count": "4", "limit": "3"})
            return self._send(429, body, "application/json", {"Retry-After": "1"})
        if fault in ("500", "502", "503"):
            return self._send(int(fault), f"<html><body>{fault} error</body></html>", "text/html")
        if fault == "garbage":
            return self._send(200, "<html><body>Service temporarily unavailable</body></html>", "text/html")
        if fault == "badcount":
            return self._send(200, f"{ESEARCH_DOCTYPE}<eSearchResult><Count>many</Count></eSearchResult>",
                              "text/xml")
        if fault == "slow":
            time.sleep(self.server.slow_seconds)
        if fault == "hang":
            self.server.stopping.wait()
            self.close_connection = True
            return None
        if endpoint == "esearch":
            status, body = state.esearch(params)
        elif endpoint == "efetch":
            status, body = state.efetch(params)
        else:
            status, body = 400, "<ERROR>unknown endpoint</ERROR>"
        if fault == "trickle":
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            for i in range(len(data)):
                if self.server.stopping.wait(0.2):
                    break
                self.wfile.write(data[i : i + 1])
                self.wfile.flush()
            self.close_connection = True
            return None
        if fault == "truncate":
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return None
        return self._send(status, body, "text/xml")

    def _send(self, status: int, body: str, ctype: str, headers: dict[str, str] | None = None) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", f"{ctype}; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: StandIn, slow_seconds: float) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state
        self.slow_seconds = slow_seconds
        self.stopping = threading.Event()


class Running:
    """A started stand-in; use as a context manager, or call stop()."""

    def __init__(self, state: StandIn | None = None, slow_seconds: float = 3.0) -> None:
        self.state = state or StandIn()
        self.server = _Server(self.state, slow_seconds)
        host, port = self.server.server_address[:2]
        self.state.url = f"http://{host}:{port}/entrez/eutils/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return self.state.url

    def stop(self) -> None:
        self.server.stopping.set()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> StandIn:
        return self.state

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def article_xml(
    pmid: str,
    title: str,
    abstract: str,
    year: int = 2020,
    version: int = 1,
    publication_types: Iterable[str] = ("Journal Article",),
    revised: date | None = None,
    extra: str = "",
) -> str:
    """A PubmedArticle record in NCBI's format, for synthetic test and benchmark data."""
    revised = revised or date(year, 1, 1)
    types = "".join(f"<PublicationType>{html.escape(t)}</PublicationType>" for t in publication_types)
    return (
        f'<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM"><PMID Version="{version}">{pmid}</PMID>'
        f"<DateRevised><Year>{revised.year}</Year><Month>{revised.month:02d}</Month>"
        f"<Day>{revised.day:02d}</Day></DateRevised>"
        f'<Article PubModel="Print"><Journal><JournalIssue><PubDate><Year>{year}</Year></PubDate>'
        f"</JournalIssue><Title>Journal of Synthetic Oncology</Title><ISOAbbreviation>J Synth Oncol"
        f"</ISOAbbreviation></Journal><ArticleTitle>{html.escape(title)}</ArticleTitle>"
        f"<Abstract><AbstractText>{html.escape(abstract)}</AbstractText></Abstract>"
        f"<AuthorList><Author><LastName>Doe</LastName><Initials>J</Initials></Author></AuthorList>"
        f"<Language>eng</Language><PublicationTypeList>{types}</PublicationTypeList></Article>{extra}"
        f"</MedlineCitation><PubmedData><History><PubMedPubDate PubStatus=\"entrez\"><Year>{year}</Year>"
        f"<Month>01</Month><Day>01</Day></PubMedPubDate></History><ArticleIdList>"
        f'<ArticleId IdType="pubmed">{pmid}</ArticleId></ArticleIdList></PubmedData></PubmedArticle>'
    )
