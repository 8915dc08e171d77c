"""bot.infra.batch: calls of the same moment served by one run, in order."""

from __future__ import annotations

import asyncio

import pytest

from bot.infra.batch import Batch


async def test_calls_of_one_moment_share_one_run_in_order() -> None:
    runs: list[list[int]] = []

    async def run(items: list[int]) -> list[int]:
        runs.append(items)
        await asyncio.sleep(0.01)
        return [i * 10 for i in items]

    batch: Batch[int, int] = Batch(run)
    first = await asyncio.gather(*(batch(i) for i in range(5)))
    assert first == [0, 10, 20, 30, 40]
    assert runs == [[0, 1, 2, 3, 4]]
    # Items that come while a run is under way go together in the next run.
    early = asyncio.ensure_future(batch(7))
    await asyncio.sleep(0.005)
    later = [asyncio.ensure_future(batch(i)) for i in (8, 9)]
    assert await asyncio.gather(early, *later) == [70, 80, 90]
    assert runs[1:] == [[7], [8, 9]]


async def test_a_failed_run_fails_its_callers_and_the_next_run_goes_on() -> None:
    async def run(items: list[int]) -> list[int]:
        if 0 in items:
            raise ValueError("zero")
        return items

    batch: Batch[int, int] = Batch(run)
    failed = await asyncio.gather(batch(0), batch(1), return_exceptions=True)
    assert all(isinstance(f, ValueError) for f in failed)
    assert await batch(2) == 2


async def test_a_caller_that_stops_waiting_does_not_stop_the_run() -> None:
    done: list[int] = []

    async def run(items: list[int]) -> list[int]:
        await asyncio.sleep(0.02)
        done.extend(items)
        return items

    batch: Batch[int, int] = Batch(run)
    gone = asyncio.ensure_future(batch(1))
    stays = asyncio.ensure_future(batch(2))
    await asyncio.sleep(0.005)
    gone.cancel()
    assert await stays == 2
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert done == [1, 2]
