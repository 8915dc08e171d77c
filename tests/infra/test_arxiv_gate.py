"""The arXiv gate's rule, on a manual timer: no real waiting, exact times.

The rule (bot.infra.arxiv_client._Gate): a request starts at
max(previous start + interval, previous end): start-to-start spacing, at most
one in flight, and at once when nothing is in flight and the interval is past.
Concurrent look-ups while one is in flight share the next request.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import AsyncIterator, Iterator

import pytest

from bot.infra.arxiv_client import ArxivClient, _Gate
from bot.infra.clock import ManualTimer
from tests.fakes.arxiv_server import FakeArxiv

T0 = 1000.0
WINDOW = 0.05


def test_the_next_request_starts_the_interval_after_the_previous_start() -> None:
    timer = ManualTimer(T0)
    gate = _Gate(3.0, timer)
    with gate.slot() as first:
        timer.advance(0.3)  # arXiv answers in 0.3 s
    timer.advance(1.0)  # a second proposal 1 s later
    with gate.slot() as second:
        pass
    assert first == T0
    assert second == pytest.approx(T0 + 3.0)  # not T0 + 0.3 + 1.0 + 3.0 (counted from the end)
    assert timer.sleeps == [pytest.approx(1.7)]


def test_a_slow_answer_lets_the_next_start_as_soon_as_it_ends() -> None:
    timer = ManualTimer(T0)
    gate = _Gate(3.0, timer)
    with gate.slot():
        timer.advance(5.0)  # longer than the interval
    with gate.slot() as second:
        pass
    assert second == T0 + 5.0
    assert timer.sleeps == []


def test_with_nothing_in_flight_and_the_interval_past_a_request_starts_at_once() -> None:
    timer = ManualTimer(T0)
    gate = _Gate(3.0, timer)
    with gate.slot():
        pass
    timer.advance(3.0)
    with gate.slot() as second:
        pass
    timer.advance(60.0)
    with gate.slot() as third:
        pass
    assert (second, third) == (T0 + 3.0, T0 + 63.0)
    assert timer.sleeps == []
    assert gate.wait_time() == 3.0


def test_at_most_one_request_is_in_flight() -> None:
    """A second sender (another thread) waits for the first to end, even with
    no interval at all."""
    gate = _Gate(0.0, ManualTimer(T0))
    events: list[str] = []
    inside = threading.Event()
    finish = threading.Event()

    def first() -> None:
        with gate.slot():
            events.append("first in")
            inside.set()
            finish.wait(5)
            events.append("first out")

    def second() -> None:
        with gate.slot():
            events.append("second in")

    a = threading.Thread(target=first)
    a.start()
    assert inside.wait(5)
    assert gate.in_flight
    b = threading.Thread(target=second)
    b.start()
    b.join(0.2)  # had it not waited, it would be in by now
    finish.set()
    a.join(5)
    b.join(5)
    assert events == ["first in", "first out", "second in"]
    assert not gate.in_flight


# -- the client on a manual timer, against the fake arXiv ---------------------


@pytest.fixture
def fake() -> Iterator[FakeArxiv]:
    with FakeArxiv() as server:
        yield server


@pytest.fixture
async def timed(fake: FakeArxiv) -> AsyncIterator[tuple[ArxivClient, ManualTimer]]:
    timer = ManualTimer(T0)
    client = ArxivClient(
        api_url=fake.url, min_interval=3.0, backoff=2.0, batch_window=WINDOW, timer=timer
    )
    yield client, timer
    fake.release()
    await client.aclose()


async def test_lookups_during_a_request_share_the_next_one_interval_after_its_start(
    fake: FakeArxiv, timed: tuple[ArxivClient, ManualTimer]
) -> None:
    client, timer = timed
    fake.hold()
    first = asyncio.create_task(client.lookup("1605.08386"))
    await fake.requests_seen(1)  # in flight, held by the fake
    later = [asyncio.create_task(client.lookup(i)) for i in ("1707.08567", "astro-ph/0601001")]
    await asyncio.sleep(0.05)  # let them reach the pending set
    timer.advance(1.0)  # arXiv takes 1 s to answer
    fake.release()
    assert await first is not None
    assert all(r is not None for r in await asyncio.gather(*later))
    starts = [t for t, _ in client.request_log]
    assert [sorted(ids) for _, ids in client.request_log] == [
        ["1605.08386"],
        ["1707.08567", "astro-ph/0601001"],
    ]
    # From idle: the batch window only. Then start + 3 s, not end + 3 s.
    assert starts == pytest.approx([T0 + WINDOW, T0 + WINDOW + 3.0])


async def test_an_idle_client_sends_after_the_batch_window_only(
    fake: FakeArxiv, timed: tuple[ArxivClient, ManualTimer]
) -> None:
    client, timer = timed
    assert await client.lookup("1605.08386") is not None
    timer.advance(10.0)
    asked = timer.monotonic()
    assert await client.lookup("1707.08567") is not None
    assert client.request_log[1][0] == pytest.approx(asked + WINDOW)


async def test_a_lookup_soon_after_a_request_waits_for_the_interval_not_longer(
    fake: FakeArxiv, timed: tuple[ArxivClient, ManualTimer]
) -> None:
    client, timer = timed
    assert await client.lookup("1605.08386") is not None
    timer.advance(1.0)
    assert await client.lookup("1707.08567") is not None
    first, second = (t for t, _ in client.request_log)
    assert second == pytest.approx(first + 3.0)


async def test_retry_after_is_honoured_from_the_end_of_the_refused_request(
    fake: FakeArxiv, timed: tuple[ArxivClient, ManualTimer]
) -> None:
    client, _timer = timed
    fake.fail(429, count=1, retry_after=5)
    assert await client.lookup("1605.08386") is not None
    first, second = (t for t, _ in client.request_log)
    # Retry-After (5) beats both the back-off (2) and the interval (3).
    assert second == pytest.approx(first + 5.0)


async def test_a_back_off_shorter_than_the_interval_still_waits_the_interval(
    fake: FakeArxiv, timed: tuple[ArxivClient, ManualTimer]
) -> None:
    client, _timer = timed
    fake.fail(503, count=2)
    assert await client.lookup("1605.08386") is not None
    starts = [t for t, _ in client.request_log]
    # Back-offs 2 s then 4 s from each end (answers take no time on this timer);
    # the first is held to the 3-s interval.
    assert [b - a for a, b in itertools.pairwise(starts)] == pytest.approx([3.0, 4.0])


async def test_a_lookup_made_while_the_first_request_is_prepared_rides_in_it(
    fake: FakeArxiv, timed: tuple[ArxivClient, ManualTimer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first request imports the HTTP side (0.1-0.3 s). The ids it carries
    are cut once that is done, not before: a proposal acknowledged during the
    import used to miss it and wait for the next request, 3 s later."""
    from bot.infra import arxiv_client

    client, _timer = timed
    importing, imported = threading.Event(), threading.Event()
    real = arxiv_client._http_module

    def slow_import() -> object:
        importing.set()
        imported.wait(10)
        return real()

    monkeypatch.setattr(arxiv_client, "_http_module", slow_import)
    first = asyncio.create_task(client.lookup("1605.08386"))
    for _ in range(2000):
        if importing.is_set():
            break
        await asyncio.sleep(0.005)
    assert importing.is_set(), "the HTTP side was never prepared"
    second = asyncio.create_task(client.lookup("1707.08567"))
    await asyncio.sleep(0.05)  # let it reach the pending set
    imported.set()
    assert all(r is not None for r in await asyncio.gather(first, second))
    assert [sorted(ids) for _, ids in client.request_log] == [["1605.08386", "1707.08567"]]


async def test_a_request_does_not_queue_behind_the_loops_default_threads(
    fake: FakeArxiv, timed: tuple[ArxivClient, ManualTimer]
) -> None:
    """Database work fills asyncio's default executor after an arXiv answer
    (cards, stored requests); the arXiv request runs on a thread of its own,
    so it starts while every default thread is still busy."""
    from concurrent.futures import ThreadPoolExecutor

    client, _timer = timed
    loop = asyncio.get_running_loop()
    pool = ThreadPoolExecutor(1)
    loop.set_default_executor(pool)
    busy = threading.Event()
    blocker = loop.run_in_executor(None, busy.wait, 10)
    try:
        found = asyncio.create_task(client.lookup("1605.08386"))
        await fake.requests_seen(1)  # raises if it never went out
        assert not busy.is_set() and not blocker.done()
        assert await found is not None
    finally:
        busy.set()
        await blocker


async def test_a_request_about_to_start_waits_for_an_announced_lookup(fake: FakeArxiv) -> None:
    """A /propose acknowledged a few ms before the gate opens, whose handler
    has not asked yet (it is saving the proposal), is announced with
    `expect`: the request waits for its id instead of leaving without it."""
    timer = ManualTimer(T0)
    client = ArxivClient(
        api_url=fake.url, min_interval=3.0, batch_window=WINDOW, hold=30.0, timer=timer
    )
    try:
        fake.hold()
        first = asyncio.create_task(client.lookup("1605.08386"))
        await fake.requests_seen(1)
        waiting = asyncio.create_task(client.lookup("1707.08567"))
        client.expect("cmd-7")  # acknowledged; its id is not known yet
        timer.advance(3.0)  # the gate is open once the first request ends
        fake.release()
        assert await first is not None
        for _ in range(20):
            await asyncio.sleep(0)
        assert len(client.request_log) == 1  # the next one waits for the announced id
        late = asyncio.create_task(client.lookup("astro-ph/0601001"))
        client.expected_done("cmd-7")
        assert all(r is not None for r in await asyncio.gather(waiting, late))
        assert [sorted(ids) for _, ids in client.request_log] == [
            ["1605.08386"],
            ["1707.08567", "astro-ph/0601001"],
        ]
    finally:
        fake.release()
        await client.aclose()


async def test_an_announced_lookup_that_never_comes_holds_a_request_back_only_briefly(
    fake: FakeArxiv,
) -> None:
    client = ArxivClient(api_url=fake.url, min_interval=3.0, hold=0.05, timer=ManualTimer(T0))
    try:
        client.expect("cmd-8")  # its handler died, say
        assert await client.lookup("1605.08386") is not None
    finally:
        await client.aclose()
