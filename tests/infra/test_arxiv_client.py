"""ArxivClient against a loopback fake arXiv serving real recorded answers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

import pytest

from bot.infra.arxiv_client import ArxivClient, ArxivUnavailable, PaperMeta
from bot.infra.arxiv_ref import InvalidReference
from tests.fakes.arxiv_server import LOOPBACK_JITTER, FakeArxiv

FAST = {"min_interval": 0.05, "backoff": 0.02, "timeout": 2.0, "batch_window": 0.02}

MakeClient = Callable[..., ArxivClient]


@pytest.fixture
def fake() -> Iterator[FakeArxiv]:
    with FakeArxiv() as server:
        yield server


@pytest.fixture
async def make_client(fake: FakeArxiv) -> AsyncIterator[MakeClient]:
    clients: list[ArxivClient] = []

    def make(**overrides: Any) -> ArxivClient:
        client = ArxivClient(**{"api_url": fake.url, **FAST, **overrides})
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


def _gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in pairwise(times)]


def _starts(client: ArxivClient) -> list[float]:
    return [t for t, _ in client.request_log]


# -- answers -------------------------------------------------------------------


async def test_single_paper_has_all_fields(make_client: MakeClient) -> None:
    meta = await make_client().lookup("1605.08386")
    assert meta == PaperMeta(
        arxiv_id="1605.08386",
        version=1,
        title="Heat-bath random walks with Markov bases",
        authors=("Caprice Stanley", "Tobias Windisch"),
        abstract=meta.abstract if meta else "",
        categories=("math.CO", "math.ST"),
        primary_category="math.CO",
        published=datetime(2016, 5, 26, 17, 59, 46, tzinfo=UTC),
        updated=datetime(2016, 5, 26, 17, 59, 46, tzinfo=UTC),
        comment="20 pages, 3 figures",
        journal_ref="",
        doi="",
        links=("https://arxiv.org/abs/1605.08386v1", "https://arxiv.org/pdf/1605.08386v1"),
    )
    assert meta.abstract.startswith("Graphs on lattice points are studied")
    assert meta.published.utcoffset() is not None


async def test_title_zero_is_kept(make_client: MakeClient) -> None:
    meta = await make_client().lookup("2104.12255v1")
    assert meta is not None
    assert (meta.arxiv_id, meta.version, meta.title) == ("2104.12255", 1, "0")


async def test_old_style_ids_and_whitespace_is_normalised(make_client: MakeClient) -> None:
    client = make_client()
    meta = await client.lookup("astro-ph/0601001")
    assert meta is not None
    assert meta.arxiv_id == "astro-ph/0601001"
    assert meta.journal_ref == "ActaAstron.56:1-50,2006"
    assert meta.abstract.startswith("We derive the frequencies")
    assert "  " not in meta.abstract
    versioned = await client.lookup("https://arxiv.org/abs/hep-ex/0406020v1")
    assert versioned is not None
    assert (versioned.arxiv_id, versioned.title) == (
        "hep-ex/0406020",
        "Sparticle Reconstruction at LHC",
    )


async def test_not_found_is_confirmed_by_a_second_request(
    fake: FakeArxiv, make_client: MakeClient
) -> None:
    client = make_client()
    assert await client.lookup("2401.99999") is None
    assert client.requests_made == 2
    assert [r.id_list for r in fake.requests] == [("2401.99999",), ("2401.99999",)]


async def test_spurious_empty_page_then_success(fake: FakeArxiv, make_client: MakeClient) -> None:
    fake.empty(1)
    client = make_client()
    meta = await client.lookup("1707.08567")
    assert meta is not None
    assert meta.title.startswith("Proceedings of Workshop AEW10")
    assert client.requests_made == 2


async def test_multi_id_batch_with_one_missing(fake: FakeArxiv, make_client: MakeClient) -> None:
    client = make_client()
    given = ["1707.08567", "arXiv:2401.99999", "https://arxiv.org/abs/1605.08386v1"]
    found = await client.lookup_many(given)
    assert list(found) == given
    assert found["arXiv:2401.99999"] is None
    assert found["1707.08567"] is not None
    assert found["https://arxiv.org/abs/1605.08386v1"] is not None
    # Missing from a non-empty answer means not found: no confirmation request.
    assert client.requests_made == 1
    assert sorted(fake.requests[0].id_list) == ["1605.08386v1", "1707.08567", "2401.99999"]


# -- bad ids -------------------------------------------------------------------


async def test_locally_invalid_id_costs_no_request(make_client: MakeClient) -> None:
    client = make_client()
    with pytest.raises(InvalidReference):
        await client.lookup("abc")
    with pytest.raises(InvalidReference):
        await client.lookup_many(["1605.08386", "0000.0000"])
    assert client.requests_made == 0


async def test_http_400_raises_invalid_reference_without_retries(
    fake: FakeArxiv, make_client: MakeClient
) -> None:
    fake.reject("1605.08386")
    client = make_client()
    with pytest.raises(InvalidReference) as info:
        await client.lookup("1605.08386")
    assert "1605.08386" in str(info.value)
    assert client.requests_made == 1


async def test_400_on_a_batch_is_split_so_one_bad_id_does_not_poison_others(
    fake: FakeArxiv, make_client: MakeClient
) -> None:
    fake.reject("2104.12255v1")
    client = make_client()
    ids = ["1605.08386", "1707.08567", "2104.12255v1", "astro-ph/0601001"]
    many, single_bad, single_good = await asyncio.gather(
        client.lookup_many(ids),
        client.lookup("2104.12255v1"),
        client.lookup("hep-ex/0406020v1"),
        return_exceptions=True,
    )
    assert isinstance(single_bad, InvalidReference)
    assert isinstance(single_good, PaperMeta)
    assert isinstance(many, dict)
    assert many["2104.12255v1"] is None
    assert all(many[i] is not None for i in ids if i != "2104.12255v1")
    # One batch of 5, then bisection: far fewer requests than one per id plus retries.
    assert client.requests_made <= 7
    assert all(len(r.id_list) <= 5 for r in fake.requests)


# -- batching and spacing ------------------------------------------------------


async def test_concurrent_lookups_are_batched(fake: FakeArxiv, make_client: MakeClient) -> None:
    client = make_client()
    ids = ["1605.08386", "1707.08567", "2104.12255v1", "astro-ph/0601001", "hep-ex/0406020v1"]
    results = await asyncio.gather(*(client.lookup(ids[i % 5]) for i in range(20)))
    assert all(r is not None for r in results)
    assert results[0] == results[5] == results[10]
    assert 1 <= client.requests_made <= 2
    assert sorted({i for r in fake.requests for i in r.id_list}) == sorted(ids)


async def test_more_than_100_ids_are_split_into_batches_of_100(make_client: MakeClient) -> None:
    with FakeArxiv(synthetic=True) as synthetic:
        client = make_client(api_url=synthetic.url)
        ids = [f"2402.{n:05d}" for n in range(1, 151)]
        found = await client.lookup_many(ids)
        assert found["2402.00042"] is not None
        assert found["2402.00042"].title == "Synthetic paper 2402.00042"
        assert [len(r.id_list) for r in synthetic.requests] == [100, 50]


async def test_requests_are_spaced_even_during_retries(
    fake: FakeArxiv, make_client: MakeClient
) -> None:
    fake.fail(503, count=2)
    client = make_client(min_interval=0.2, backoff=0.001)
    await asyncio.gather(client.lookup("1605.08386"), client.lookup("1707.08567"))
    await client.lookup("astro-ph/0601001")
    assert len(_starts(client)) == 4
    assert min(_gaps(_starts(client))) >= 0.2
    arrivals = [r.time for r in fake.requests]
    assert len(arrivals) == 4
    assert min(_gaps(arrivals)) >= 0.2 - LOOPBACK_JITTER


@pytest.mark.slow(seconds=3, waits=True)
async def test_real_three_second_spacing(fake: FakeArxiv, make_client: MakeClient) -> None:
    client = make_client(min_interval=3.0)
    ids = ["1605.08386", "1707.08567", "2104.12255v1", "astro-ph/0601001", "hep-ex/0406020v1"]
    results = await asyncio.gather(*(client.lookup(ids[i % 5]) for i in range(20)))
    assert all(r is not None for r in results)
    assert client.requests_made <= 2
    start = time.monotonic()
    assert await client.lookup("quant-ph/0201082v1") is not None
    assert time.monotonic() - start >= 2.9
    assert min(_gaps(_starts(client))) >= 3.0
    arrivals = [r.time for r in fake.requests]
    assert len(arrivals) <= 5
    assert min(_gaps(arrivals)) >= 3.0 - LOOPBACK_JITTER


async def test_event_loop_keeps_running_during_a_slow_answer(
    fake: FakeArxiv, make_client: MakeClient
) -> None:
    fake.delay(0.4)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.02)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        assert await make_client().lookup("1605.08386") is not None
    finally:
        task.cancel()
    assert ticks >= 5  # ~20 if the loop were never blocked, 0 if it were


async def test_a_cancelled_waiter_does_not_cancel_the_others(
    fake: FakeArxiv, make_client: MakeClient
) -> None:
    fake.delay(0.2)
    client = make_client()
    first = asyncio.create_task(client.lookup("1605.08386"))
    second = asyncio.create_task(client.lookup("1605.08386"))
    await asyncio.sleep(0.05)
    first.cancel()
    assert (await second) is not None
    assert client.requests_made == 1


# -- outages -------------------------------------------------------------------


async def test_503_for_a_while_then_recovery(fake: FakeArxiv, make_client: MakeClient) -> None:
    fake.fail(503, seconds=0.3)
    client = make_client(backoff=0.1, attempts=4)  # waits 0.1 + 0.2 + 0.4
    assert await client.lookup("1605.08386") is not None
    statuses_before_success = client.requests_made - 1
    assert 1 <= statuses_before_success <= 3


async def test_outage_longer_than_the_attempts_raises_unavailable(
    fake: FakeArxiv, make_client: MakeClient
) -> None:
    fake.fail(503)
    client = make_client(attempts=3)
    with pytest.raises(ArxivUnavailable, match="503"):
        await client.lookup("1605.08386")
    assert client.requests_made == 3
    fake.reset()
    assert await client.lookup("1605.08386") is not None


async def test_429_honours_retry_after(fake: FakeArxiv, make_client: MakeClient) -> None:
    fake.fail(429, count=1, retry_after=0.5)
    client = make_client(backoff=0.01)
    assert await client.lookup("1605.08386") is not None
    first, second = (r.time for r in fake.requests)
    assert second - first >= 0.5


async def test_other_4xx_is_not_retried(fake: FakeArxiv, make_client: MakeClient) -> None:
    fake.fail(403)
    client = make_client()
    with pytest.raises(ArxivUnavailable, match="403"):
        await client.lookup("1605.08386")
    assert client.requests_made == 1


async def test_timeouts_are_retried_then_raise_unavailable(
    fake: FakeArxiv, make_client: MakeClient
) -> None:
    fake.delay(1.0)
    client = make_client(timeout=0.2, attempts=2)
    start = time.monotonic()
    with pytest.raises(ArxivUnavailable, match="Timeout"):
        await client.lookup("1605.08386")
    assert time.monotonic() - start < 0.9
    assert client.requests_made == 2


async def test_connection_refused_raises_unavailable(make_client: MakeClient) -> None:
    dead = FakeArxiv().start()
    url = dead.url
    dead.stop()
    client = make_client(api_url=url, attempts=2)
    with pytest.raises(ArxivUnavailable):
        await client.lookup("1605.08386")


async def test_malformed_xml_is_retried(fake: FakeArxiv, make_client: MakeClient) -> None:
    fake.malformed(1)
    client = make_client()
    meta = await client.lookup("astro-ph/0601001")
    assert meta is not None
    assert meta.abstract.endswith("to map this distribution in detail.")
    assert client.requests_made == 2


async def test_malformed_xml_every_time_raises_unavailable(
    fake: FakeArxiv, make_client: MakeClient
) -> None:
    fake.malformed(10)
    client = make_client(attempts=3)
    with pytest.raises(ArxivUnavailable, match="Malformed"):
        await client.lookup("1605.08386")


async def test_unavailable_reaches_every_waiter_of_the_batch(
    fake: FakeArxiv, make_client: MakeClient
) -> None:
    fake.fail(502)
    client = make_client(attempts=2)
    outcomes = await asyncio.gather(
        client.lookup("1605.08386"), client.lookup("1707.08567"), return_exceptions=True
    )
    assert all(isinstance(o, ArxivUnavailable) for o in outcomes)
    assert client.requests_made == 2


async def test_aclose_fails_waiters_instead_of_hanging(
    fake: FakeArxiv, make_client: MakeClient
) -> None:
    fake.delay(0.3)
    client = make_client()
    task = asyncio.create_task(client.lookup("1605.08386"))
    await asyncio.sleep(0.05)
    await client.aclose()
    with pytest.raises(ArxivUnavailable):
        await task


# -- production defaults -----------------------------------------------------


def test_a_process_uses_arxivs_spacing_and_the_default_back_offs_unless_told(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tests of real processes cut these delays through the environment; the
    defaults are arXiv's 3 s, 2 s for the first retry and 10 s for the first
    background try."""
    from bot.app import build_bot
    from bot.infra.settings import Settings
    from storage.engine import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    for name in ("INTERVAL", "BACKOFF", "REFETCH"):
        monkeypatch.delenv(f"READGROUP_ARXIV_{name}_SECONDS", raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    bot = build_bot(settings, engine=engine, migrate=False)
    assert (bot.arxiv._gate.interval, bot.arxiv._backoff) == (3.0, 2.0)
    assert settings.arxiv_refetch_seconds == 10.0
    monkeypatch.setenv("READGROUP_ARXIV_INTERVAL_SECONDS", "0.5")
    monkeypatch.setenv("READGROUP_ARXIV_BACKOFF_SECONDS", "0.25")
    bot = build_bot(Settings(_env_file=None), engine=engine, migrate=False)  # type: ignore[call-arg]
    assert (bot.arxiv._gate.interval, bot.arxiv._backoff) == (0.5, 0.25)
    engine.dispose()


async def test_nothing_is_sent_once_the_client_is_closed(
    fake: FakeArxiv, make_client: MakeClient
) -> None:
    """A request still in its worker thread when the client closes must not go
    out later (a CI run saw one land on the next test's server, same port)."""
    client = make_client()
    await client.aclose()
    with pytest.raises(ArxivUnavailable, match="closed"):
        await asyncio.to_thread(client._fetch, ["1605.08386"])
    assert fake.requests == []
