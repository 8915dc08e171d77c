"""Background handlers take turns in a few slots; waiting gives the slot up."""

from __future__ import annotations

import asyncio

from bot.infra.slots import Slots


async def test_at_most_n_work_at_once_and_waiting_takes_no_slot() -> None:
    slots = Slots(2)
    working = 0
    most = 0
    waiting = 0
    most_waiting = 0
    release = asyncio.Event()
    all_waiting = asyncio.Event()

    async def handler() -> None:
        nonlocal working, most, waiting, most_waiting
        async with slots.held():
            working += 1
            most = max(most, working)
            await asyncio.sleep(0)
            working -= 1
            async with slots.given_up():  # the arXiv wait
                waiting += 1
                most_waiting = max(most_waiting, waiting)
                if waiting == 10:
                    all_waiting.set()
                await release.wait()
                waiting -= 1
            working += 1
            most = max(most, working)
            await asyncio.sleep(0)
            working -= 1

    tasks = [asyncio.ensure_future(handler()) for _ in range(10)]
    await all_waiting.wait()
    release.set()
    await asyncio.gather(*tasks)
    assert most == 2
    assert most_waiting == 10  # all ten waited together
    assert slots.free == 2


async def test_a_task_spawned_by_a_holder_gives_up_nothing() -> None:
    slots = Slots(1)

    async def spawned() -> None:
        async with slots.given_up():  # it holds no slot: nothing to give back
            await asyncio.sleep(0)

    async with slots.held():
        await asyncio.ensure_future(spawned())
        assert slots.free == 0
    assert slots.free == 1


async def test_cancelled_while_taking_the_slot_back_leaks_none() -> None:
    slots = Slots(1)
    inside = asyncio.Event()
    done_waiting = asyncio.Event()

    async def handler() -> None:
        async with slots.held(), slots.given_up():
            inside.set()
            await done_waiting.wait()

    task = asyncio.ensure_future(handler())
    await inside.wait()
    async with slots.held():  # takes the slot the waiter gave up
        done_waiting.set()
        for _ in range(5):
            await asyncio.sleep(0)  # the handler now waits to take it back
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert slots.free == 0
    assert slots.free == 1
