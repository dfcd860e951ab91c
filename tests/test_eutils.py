"""The E-utilities client against the loopback stand-in, over real HTTP."""

from __future__ import annotations

import math
import time
from datetime import date
from itertools import pairwise
from pathlib import Path

import pytest

from miner.config import Settings
from miner.eutils import (
    ESEARCH_CAP,
    DateWindow,
    EutilsClient,
    EutilsError,
    QueryError,
    RateLimiter,
    ServiceUnavailable,
    parse_esearch,
    read_reply,
)
from miner.pubmed import Article, parse_bytes
from miner.standin import StandIn

from .conftest import SHARED, add_synthetic


def fetched_pmids(client: EutilsClient, query: str = "bone", **kwargs: object) -> list[str]:
    plan = client.plan(query, **kwargs)  # type: ignore[arg-type]
    return [r.pmid for xml in client.efetch_batches(plan) for r in parse_bytes(xml) if isinstance(r, Article)]


def test_small_query_uses_history_and_minimal_requests(standin: StandIn, settings: Settings) -> None:
    add_synthetic(standin, 1234)
    client = EutilsClient(settings.with_options(batch_size=500))
    pmids = fetched_pmids(client)
    assert sorted(pmids) == sorted(standin.records)
    assert client.requests_made == 1 + math.ceil(1234 / 500)
    assert standin.requests_to("esearch") == 1
    fetches = [r for r in standin.log if r.endpoint == "efetch"]
    assert all("WebEnv" in r.params for r in fetches)


def test_every_request_carries_tool_email_and_key(standin: StandIn, settings: Settings) -> None:
    add_synthetic(standin, 3)
    client = EutilsClient(settings.with_options(api_key="SECRET123"))
    fetched_pmids(client)
    for request in standin.log:
        assert request.params["tool"] == "miner"
        assert request.params["email"] == "tests@example.org"
        assert request.params["api_key"] == "SECRET123"


def test_query_past_the_cap_is_fetched_completely(standin: StandIn, settings: Settings) -> None:
    add_synthetic(standin, 25_000, per_day=10)
    client = EutilsClient(settings.with_options(batch_size=5000))
    pmids = fetched_pmids(client)
    assert len(pmids) == 25_000
    assert set(pmids) == set(standin.records)
    searches = standin.requests_to("esearch")
    assert standin.requests_to("efetch") == math.ceil(25_000 / 5000)
    assert searches < 20
    # no window the client kept asked for more than the cap
    assert all(int(r.params.get("retmax", 0)) <= ESEARCH_CAP for r in standin.log)


def test_date_window_limits_the_search(standin: StandIn, settings: Settings) -> None:
    add_synthetic(standin, 100, first_day=date(2020, 1, 1))
    client = EutilsClient(settings)
    pmids = fetched_pmids(client, since=date(2020, 2, 1), until=date(2020, 2, 10))
    assert len(pmids) == 10
    search = next(r for r in standin.log if r.endpoint == "esearch")
    assert (search.params["mindate"], search.params["maxdate"], search.params["datetype"]) == (
        "2020/02/01", "2020/02/10", "edat")


def test_date_window_split_covers_every_day() -> None:
    window = DateWindow(date(2000, 1, 1), date(2000, 12, 31))
    parts = window.split(7)
    assert parts[0].start == window.start and parts[-1].end == window.end
    assert sum(p.days for p in parts) == window.days
    assert all(a.end.toordinal() + 1 == b.start.toordinal() for a, b in pairwise(parts))


@pytest.mark.parametrize("fault", ["429", "500", "502", "503", "truncate", "slow", "garbage"])
def test_transient_faults_are_retried(standin: StandIn, settings: Settings, fault: str) -> None:
    add_synthetic(standin, 5)
    standin.faults = [fault, fault]
    waits: list[float] = []
    # replies are awaited 0.5 s, then 1 s: both shorter than the stand-in's slow reply (2 s)
    client = EutilsClient(settings.with_options(timeout=0.5), sleep=waits.append)
    assert len(fetched_pmids(client)) == 5
    assert len(waits) == 2
    if fault == "429":
        assert all(w >= 1.0 for w in waits)  # Retry-After: 1


def test_malformed_reply_is_an_error(standin: StandIn, settings: Settings) -> None:
    standin.faults = ["badcount"]
    with pytest.raises(EutilsError, match="malformed esearch reply"):
        EutilsClient(settings).plan("bone")


def test_backoff_grows_and_gives_up_with_a_clear_error(standin: StandIn, settings: Settings) -> None:
    standin.always = "503"
    waits: list[float] = []
    client = EutilsClient(settings.with_options(give_up_after=10.0), sleep=waits.append)
    with pytest.raises(ServiceUnavailable, match="HTTP 503; gave up after"):
        client.plan("bone")
    assert len(waits) >= 3
    assert waits[-1] > waits[0]


def test_unreachable_service_is_reported(settings: Settings) -> None:
    client = EutilsClient(settings.with_options(eutils_url="http://127.0.0.1:9/"), sleep=lambda s: None)
    with pytest.raises(ServiceUnavailable, match="connection failed"):
        client.plan("bone")


def test_rejected_query(standin: StandIn, settings: Settings) -> None:
    with pytest.raises(QueryError, match="Invalid query"):
        EutilsClient(settings).plan("INVALIDQUERY")


def test_no_hits_is_an_empty_plan_with_a_warning(standin: StandIn, settings: Settings) -> None:
    plan = EutilsClient(settings).plan("nothingmatches")
    assert plan.count == 0
    assert any("PhraseNotFound" in w for w in plan.warnings)


@pytest.mark.parametrize(("api_key", "limit"), [(None, 3.0), ("KEY", 10.0)])
def test_rate_limit_is_respected(standin: StandIn, settings: Settings, api_key: str | None,
                                 limit: float) -> None:
    """NCBI's limits (3/s, 10/s with a key), measured on the server side across threads."""
    import threading

    add_synthetic(standin, 2)
    tuned = settings.with_options(rate_without_key=3.0, rate_with_key=10.0, api_key=api_key)
    clients = [EutilsClient(tuned) for _ in range(3)]
    count = int(limit) + 4

    def hammer(client: EutilsClient) -> None:
        for _ in range(count // 3 + 1):
            client.esearch("bone")

    threads = [threading.Thread(target=hammer, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    times = sorted(r.at for r in standin.log)
    gaps = [b - a for a, b in pairwise(times)]
    assert min(gaps) >= 1.0 / limit * 0.8
    # in any one second no more than the limit (+1 for the window edge)
    assert max(sum(1 for t in times if s <= t < s + 1.0) for s in times) <= limit + 1


def test_rate_limiter_spaces_calls() -> None:
    limiter = RateLimiter(20.0)
    started = time.monotonic()
    for _ in range(5):
        limiter.wait()
    assert time.monotonic() - started >= 4 / 20.0 * 0.9


FIXTURES = Path(__file__).parent / "fixtures"


def reply(own: str, *shared: str) -> list[tuple[str, bytes]]:
    """The project's own reply fixture, and NCBI's real ones from ../shared when they are here."""
    real = [SHARED / "ncbi_fixtures" / name for name in shared]
    return [(own, (FIXTURES / own).read_bytes())] + [(p.name, p.read_bytes()) for p in real if p.exists()]


REAL_ESEARCH = {"esearch1.xml": (63, 20, False), "esearch2.xml": (42249, 100, True), "esearch8.xml": (0, 0, False),
                "esearch_history.xml": (31742, 3, True), "esearch_page.xml": (12, 4, False),
                "esearch_empty.xml": (0, 0, False)}
"""Count, ids returned, history (WebEnv) of the replies whose values are known."""


@pytest.mark.parametrize("own_and_real", [
    ("esearch_history.xml", "esearch2.xml"),
    ("esearch_page.xml", "esearch1.xml", "esearch3.xml", "esearch5.xml", "esearch6.xml", "esearch7.xml"),
    ("esearch_empty.xml", "esearch8.xml"),
])
def test_esearch_replies(own_and_real: tuple[str, ...]) -> None:
    for name, body in reply(*own_and_real):
        result = parse_esearch(body)
        assert result.count >= len(result.ids) and all(i.isdigit() for i in result.ids), name
        if name in REAL_ESEARCH:
            assert (result.count, len(result.ids), result.webenv is not None) == REAL_ESEARCH[name], name
        if result.count == 0:
            assert any("PhraseNotFound" in w for w in result.warnings), name


def test_own_esearch_replies_in_detail() -> None:
    history = parse_esearch((FIXTURES / "esearch_history.xml").read_bytes())
    assert (history.count, history.ids, history.query_key) == (31742, ["39999003", "39999002", "39999001"], "1")
    assert history.webenv == "MCID_5f0c1e2d3b4a59687a8b9c0d" and history.warnings == []
    page = parse_esearch((FIXTURES / "esearch_page.xml").read_bytes())
    assert (page.count, page.ids[0], len(page.ids), page.webenv) == (12, "38000012", 4, None)


def test_epost_replies() -> None:
    for (_, ok), (_, bad_db), (_, no_ids) in zip(reply("epost_ok.xml", "epost1.xml"),
                                                 reply("epost_bad_db.xml", "epost2.xml"),
                                                 reply("epost_no_ids.xml", "epost3.xml"), strict=False):
        posted = read_reply(ok, "epost")
        assert posted["QueryKey"] == "1" and posted["WebEnv"].startswith("MCID_")
        with pytest.raises(QueryError, match="Invalid db name"):
            read_reply(bad_db, "epost")
        with pytest.raises(QueryError, match="Empty ID list"):
            read_reply(no_ids, "epost")
