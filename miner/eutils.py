"""NCBI E-utilities client: esearch, efetch in batches, date windows past the 9,999 cap.

Knows HTTP and the E-utilities protocol, not the fields of a PubMed record. One rate limiter per
service and limit is shared by every client and thread in the process; every request carries
``tool`` and ``email`` (and ``api_key`` when set, which is never logged).
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from io import BytesIO
from itertools import pairwise

import requests
import urllib3
from Bio import Entrez

from miner.config import Settings

log = logging.getLogger(__name__)

ESEARCH_CAP = 9999
"""PubMed's esearch returns at most this many records of one query."""
EARLIEST = date(1781, 1, 1)
"""No PubMed record is older: the lower end of an open date range split into windows."""
RETRY_STATUS = {429, 500, 502, 503, 504}
CONNECT_ATTEMPTS = 4
"""Attempts before a refused or unresolvable connection counts as 'cannot be reached'."""
DATETYPES = ("edat", "mdat", "pdat")


class EutilsError(Exception):
    """A request failed: a malformed reply or an HTTP error that retrying will not mend."""


class ServiceUnavailable(EutilsError):
    """The service could not be reached, or kept failing until the retry budget ran out."""


class QueryError(EutilsError):
    """NCBI rejected the query."""


class RateLimiter:
    """Spaces calls at least ``1/per_second`` apart, across threads."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second
        self._lock = threading.Lock()
        self._next = 0.0

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            time.sleep(start - now)


_limiters: dict[tuple[str, float], RateLimiter] = {}
_limiters_lock = threading.Lock()


def shared_limiter(url: str, per_second: float) -> RateLimiter:
    """The process-wide limiter for one service at one rate."""
    with _limiters_lock:
        return _limiters.setdefault((url, per_second), RateLimiter(per_second))


@dataclass(frozen=True)
class DateWindow:
    """An inclusive range of days, as esearch's mindate/maxdate take it."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def split(self, parts: int) -> list[DateWindow]:
        parts = max(1, min(parts, self.days))
        step = self.days / parts
        edges = [self.start + timedelta(days=round(i * step)) for i in range(parts)] + [
            self.end + timedelta(days=1)
        ]
        return [DateWindow(a, b - timedelta(days=1)) for a, b in pairwise(edges) if b > a]

    def params(self, datetype: str) -> dict[str, str]:
        return {
            "datetype": datetype,
            "mindate": self.start.strftime("%Y/%m/%d"),
            "maxdate": self.end.strftime("%Y/%m/%d"),
        }


@dataclass
class SearchResult:
    count: int
    ids: list[str]
    webenv: str | None = None
    query_key: str | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class FetchPlan:
    """What to efetch for one query: a history-server result, or ids gathered from date windows."""

    count: int
    webenv: str | None = None
    query_key: str | None = None
    ids: list[str] | None = None
    windows: int = 1
    warnings: list[str] = field(default_factory=list)


class EutilsClient:
    """A polite E-utilities client. ``requests_made`` counts every HTTP request, retries included."""

    def __init__(
        self,
        settings: Settings,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.base = settings.eutils_url.rstrip("/") + "/"
        self.session = session or requests.Session()
        self.limiter = shared_limiter(self.base, settings.rate)
        self.sleep = sleep
        self.requests_made = 0
        if not settings.email:
            log.warning("no contact e-mail for NCBI (set NCBI_EMAIL or --email): NCBI asks for one")

    # -- one request -------------------------------------------------------------------------
    def request(self, endpoint: str, params: dict[str, str], *, post: bool = False, root: str) -> bytes:
        """One E-utility call, retried on 429/5xx/timeouts/dropped or truncated replies.

        ``root`` is the reply's root element: a reply that does not close it is truncated.
        """
        url = f"{self.base}{endpoint}.fcgi"
        params = {"db": "pubmed", **params, "tool": self.settings.tool}
        if self.settings.email:
            params["email"] = self.settings.email
        if self.settings.api_key:
            params["api_key"] = self.settings.api_key
        started = time.monotonic()
        deadline = started + self.settings.give_up_after
        closing = f"</{root}>".encode()
        attempt = refused = 0
        while True:
            self.limiter.wait()
            self.requests_made += 1
            wait = self.reply_wait(attempt, deadline - time.monotonic())
            retry_after: float | None = None
            try:
                resp, body = self._send(url, params, post, wait)
                if resp.status_code == 200:
                    if closing in body[-len(closing) - 64 :] or b"<ERROR>" in body[:2000]:
                        return body
                    problem = "incomplete or non-XML reply"
                elif resp.status_code in RETRY_STATUS:
                    problem = f"HTTP {resp.status_code}"
                    retry_after = _retry_after(resp.headers.get("Retry-After"))
                else:
                    raise EutilsError(
                        f"{endpoint}: HTTP {resp.status_code} from {self.base}: {_snippet(body)}"
                    )
            except requests.RequestException as exc:
                problem = self._describe(exc, wait)
                refused += problem == "connection failed"
            attempt += 1
            backoff = min(60.0, 0.5 * 2**attempt) * random.uniform(0.5, 1.5)
            delay = max(retry_after or 0.0, backoff)
            if time.monotonic() + delay + min(1.0, self.settings.timeout) > deadline or refused >= CONNECT_ATTEMPTS:
                raise ServiceUnavailable(
                    f"cannot get a reply from NCBI E-utilities at {self.base} ({endpoint}): "
                    f"{problem}; gave up after {attempt} attempts in {time.monotonic() - started:.0f} s"
                )
            log.warning("%s: %s; retrying in %.1fs (attempt %d)", endpoint, problem, delay, attempt)
            self.sleep(delay)

    def reply_wait(self, attempt: int, remaining: float) -> float:
        """Seconds to wait for a reply: ``timeout`` at first (a quarter of a short budget), twice as
        long at each retry up to ``max_timeout``, never past the budget."""
        first = min(self.settings.timeout, self.settings.give_up_after / 4)
        return max(0.1, min(first * 2**attempt, self.settings.max_timeout, remaining))

    def _send(self, url: str, params: dict[str, str], post: bool, wait: float) -> tuple[requests.Response, bytes]:
        """One HTTP request whose reply must begin, and keep coming, within ``wait`` seconds.

        A server that answers a byte at a time cannot hold the client past ``wait`` (plus one read).
        """
        until = time.monotonic() + wait
        if post:
            resp = self.session.post(url, data=params, timeout=wait, stream=True)
        else:
            resp = self.session.get(url, params=params, timeout=wait, stream=True)
        chunks = []
        with resp:
            try:  # read1 returns what has come, so the clock is looked at while a reply trickles in
                while chunk := resp.raw.read1(1 << 16, decode_content=True):
                    chunks.append(chunk)
                    if time.monotonic() > until:
                        raise requests.Timeout("the reply took too long")
            except urllib3.exceptions.ReadTimeoutError as exc:
                raise requests.Timeout(str(exc)) from None
            except (urllib3.exceptions.ProtocolError, urllib3.exceptions.DecodeError) as exc:
                raise requests.exceptions.ChunkedEncodingError(str(exc)) from None
        return resp, b"".join(chunks)

    def _describe(self, exc: requests.RequestException, wait: float) -> str:
        """The failure without the URL, which would carry the API key."""
        if isinstance(exc, requests.Timeout) or (
            isinstance(exc, requests.ConnectionError) and "timed out" in str(exc)
        ):
            return f"timed out (no reply within {wait:.1f} s)"
        if isinstance(exc, requests.exceptions.ChunkedEncodingError):
            return "reply cut off"
        if isinstance(exc, requests.ConnectionError):
            return "connection failed"
        return type(exc).__name__

    # -- esearch / efetch ----------------------------------------------------------------------
    def esearch(
        self,
        query: str,
        window: DateWindow | None = None,
        datetype: str = "edat",
        retmax: int = 0,
        usehistory: bool = False,
    ) -> SearchResult:
        params = {"term": query, "retmax": str(retmax)}
        if usehistory:
            params["usehistory"] = "y"
        if window is not None:
            params.update(window.params(datetype))
        body = self.request("esearch", params, post=len(query) > 1500, root="eSearchResult")
        try:
            return parse_esearch(body)
        except QueryError:
            raise
        except EutilsError as exc:
            raise EutilsError(f"{exc} (from {self.base})") from None

    def plan(
        self,
        query: str,
        since: date | None = None,
        until: date | None = None,
        datetype: str = "edat",
    ) -> FetchPlan:
        """Search once; past the 9,999 cap, gather ids from date windows that each fit under it."""
        window = DateWindow(since or EARLIEST, until or date.today()) if since or until else None
        first = self.esearch(query, window, datetype, retmax=0, usehistory=True)
        if first.count <= ESEARCH_CAP:
            return FetchPlan(first.count, first.webenv, first.query_key, warnings=first.warnings)
        ids, leaves = self._gather(query, window, datetype, first.count)
        return FetchPlan(len(ids), ids=ids, windows=leaves, warnings=first.warnings)

    def search_ids(self, query: str, since: date | None = None, until: date | None = None,
                   datetype: str = "edat") -> list[str]:
        """Every PMID a query matches (in a date window): one request up to the cap, windows past it."""
        window = DateWindow(since or EARLIEST, until or date.today()) if since or until else None
        first = self.esearch(query, window, datetype, retmax=ESEARCH_CAP)
        if first.count <= ESEARCH_CAP:
            return first.ids
        return self._gather(query, window, datetype, first.count)[0]

    def _gather(self, query: str, window: DateWindow | None, datetype: str, count: int) -> tuple[list[str], int]:
        """The PMIDs of a query past the cap, from date windows that each fit under it; and how many."""
        ids: dict[str, None] = {}
        leaves = 0
        for leaf in self._leaves(query, window or DateWindow(EARLIEST, date.today()), datetype, count):
            leaves += 1
            ids.update(dict.fromkeys(leaf.ids))
        return list(ids), leaves

    def _leaves(self, query: str, window: DateWindow, datetype: str, count: int) -> Iterator[SearchResult]:
        parts = max(2, math.ceil(count / (ESEARCH_CAP * 0.7)))
        for part in window.split(parts):
            result = self.esearch(query, part, datetype, retmax=ESEARCH_CAP)
            if result.count <= ESEARCH_CAP:
                yield result
            elif part.days == 1:
                log.warning(
                    "%d records on %s alone exceed PubMed's %d cap; fetching the first %d",
                    result.count, part.start, ESEARCH_CAP, ESEARCH_CAP,
                )
                yield result
            else:
                yield from self._leaves(query, part, datetype, result.count)

    def efetch_batches(self, plan: FetchPlan) -> Iterator[bytes]:
        """The PubmedArticleSet XML of the plan, ``batch_size`` records a request."""
        size = self.settings.batch_size
        if plan.ids is None:
            for start in range(0, plan.count, size):
                yield self.efetch(
                    {"WebEnv": plan.webenv or "", "query_key": plan.query_key or "",
                     "retstart": str(start), "retmax": str(size)}
                )
        else:
            for start in range(0, len(plan.ids), size):
                yield self.efetch({"id": ",".join(plan.ids[start : start + size])}, post=True)

    def efetch_ids(self, pmids: list[str]) -> Iterator[bytes]:
        return self.efetch_batches(FetchPlan(len(pmids), ids=pmids))

    def efetch(self, params: dict[str, str], post: bool = False) -> bytes:
        body = self.request("efetch", {"retmode": "xml", **params}, post=post, root="PubmedArticleSet")
        if b"<ERROR>" in body[:2000]:
            raise EutilsError(f"efetch failed: {_snippet(body)}")
        return body


def read_reply(body: bytes, what: str) -> dict:
    """An E-utilities XML reply (esearch, epost, ...) as Biopython reads it; an <ERROR> reply raises."""
    try:
        return dict(Entrez.read(BytesIO(body), validate=False))
    except RuntimeError as exc:  # Biopython raises the text of the reply's <ERROR>
        raise QueryError(f"NCBI answered {what} with an error: {exc}") from None
    except Exception as exc:
        raise EutilsError(f"malformed {what} reply: {exc}") from None


def parse_esearch(body: bytes) -> SearchResult:
    try:
        reply = read_reply(body, "esearch")
    except QueryError as exc:
        raise QueryError(f"PubMed rejected the query: {str(exc).split(': ', 1)[-1]}") from None
    try:
        count = int(reply["Count"])
    except (KeyError, ValueError):
        raise EutilsError("malformed esearch reply: no Count") from None
    warnings = [
        f"{kind}: {', '.join(map(str, values))}"
        for part in ("ErrorList", "WarningList")
        for kind, values in dict(reply.get(part, {})).items()
        if values
    ]
    return SearchResult(
        count=count,
        ids=[str(i) for i in reply.get("IdList", [])],
        webenv=reply.get("WebEnv"),
        query_key=reply.get("QueryKey"),
        warnings=warnings,
    )


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def _snippet(body: bytes, size: int = 200) -> str:
    return " ".join(body[:size].decode("utf-8", "replace").split())
