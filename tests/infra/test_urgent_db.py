"""`Runtime.db_urgent` (the inbox write a Slack acknowledgment waits on) is
announced to SQLite's writer turns when it is handed to its thread, so a
background transaction asked for while it waits for that thread does not
take the write lock first. SQLite only: PostgreSQL takes no turns."""

from __future__ import annotations

import asyncio
import threading

from sqlmodel import Session

from bot.app import Bot
from bot.infra import runtime
from storage.engine import writer_turns


async def test_a_background_transaction_waits_for_an_urgent_one_still_queued_for_its_thread(
    bot: Bot,
) -> None:
    turns = writer_turns(bot.engine)
    if turns is None:
        return  # PostgreSQL: no turns to take
    order: list[str] = []

    def step(*, session: Session, name: str) -> None:
        order.append(name)

    # Both urgent threads busy, so the urgent transaction waits for one.
    let_go = threading.Event()
    await bot.db_urgent(step, name="warm")  # the pool exists
    assert bot._urgent is not None
    blockers = [bot._urgent.submit(let_go.wait, 10) for _ in range(runtime.URGENT_DB_THREADS)]
    urgent = asyncio.ensure_future(bot.db_urgent(step, name="urgent"))
    await asyncio.sleep(0)  # handed to the pool, not run
    background = asyncio.ensure_future(bot.db(step, name="background"))
    waiters = turns._cond._waiters  # type: ignore[attr-defined]
    while not background.done() and not waiters:  # noqa: ASYNC110
        await asyncio.sleep(0.001)
    assert order == ["warm"]  # the lock is free, yet the background waits
    let_go.set()
    await asyncio.gather(urgent, background)
    assert [b.result() for b in blockers] == [True] * runtime.URGENT_DB_THREADS
    assert order == ["warm", "urgent", "background"]
