"""How many handlers work in the background at once.

A burst of commands that all wait for one thing (a hundred ``/propose`` of
new papers waiting for one batched arXiv answer) wakes up all at once when it
comes; a hundred handlers building and posting cards together then hold the
event loop and the database threads for a few hundred milliseconds, and every
request that arrives meanwhile waits that long for its acknowledgment. So an
adapter runs each background handler inside :meth:`Slots.held`, and a handler
that waits on something slow (arXiv) does so inside :meth:`Slots.given_up`:
waiting costs nothing, working takes one of a few slots, and the loop stays
free for the next request. Code not run under :meth:`Slots.held` (the
console, tests that call a handler directly) is not limited.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass

#: Background handlers working at once (waiting ones do not count).
DEFAULT_SLOTS = 4


@dataclass
class _Hold:
    slots: Slots
    #: Tasks it spawns inherit the context variable, not the slot.
    task: asyncio.Task[object]
    holding: bool = True


_hold: ContextVar[_Hold | None] = ContextVar("slot_hold", default=None)


class Slots:
    def __init__(self, n: int = DEFAULT_SLOTS) -> None:
        self.n = n
        self._sem: asyncio.Semaphore | None = None

    @property
    def sem(self) -> asyncio.Semaphore:
        # Made on first use, inside the running loop.
        if self._sem is None:
            self._sem = asyncio.Semaphore(self.n)
        return self._sem

    @asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        """Run the body in a slot (waiting for one first)."""
        task = asyncio.current_task()
        assert task is not None
        await self.sem.acquire()
        hold = _Hold(self, task)
        token = _hold.set(hold)
        try:
            yield
        finally:
            _hold.reset(token)
            if hold.holding:
                self.sem.release()

    @asynccontextmanager
    async def given_up(self) -> AsyncIterator[None]:
        """Give this task's slot back for the body (a wait), then take one
        again; a no-op for a task that holds none."""
        hold = _hold.get()
        if hold is None or hold.slots is not self or hold.task is not asyncio.current_task():
            yield
            return
        hold.holding = False
        self.sem.release()
        try:
            yield
        finally:
            await self.sem.acquire()  # if cancelled here, held() releases nothing
            hold.holding = True

    @property
    def free(self) -> int:
        """Slots nobody holds now (for tests and logs)."""
        return self.sem._value
