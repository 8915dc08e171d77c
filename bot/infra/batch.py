"""Calls that arrive together, served by one call on all of them.

One arXiv answer carries up to a hundred papers, and the hundred tasks that
waited for it wake in the same moment. Each storing its paper in a
transaction of its own queues a hundred transactions on one write lock, and
the last card waits for all of them. A :class:`Batch` gathers the items
submitted in the same turn of the event loop (and any that come while a run
is under way) and hands them to one ``run`` call, in the order they came;
each caller gets its own item's result back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Batch(Generic[T, R]):
    def __init__(self, run: Callable[[list[T]], Awaitable[list[R]]]) -> None:
        #: Called with the gathered items; returns one result per item, in order.
        self._run = run
        self._queue: list[tuple[T, asyncio.Future[R]]] = []
        self._worker: asyncio.Task[None] | None = None

    async def __call__(self, item: T) -> R:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        # Retrieved even when its caller stopped waiting.
        future.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._queue.append((item, future))
        worker = self._worker
        if worker is None or worker.done() or worker.get_loop() is not loop:
            self._worker = loop.create_task(self._drain(), name="batch")
        # Shielded: a caller that stops waiting does not take the others' run down.
        return await asyncio.shield(future)

    async def _drain(self) -> None:
        while self._queue:
            # Let every task woken in this same moment add its item first.
            await asyncio.sleep(0)
            batch, self._queue = self._queue, []
            try:
                results = await self._run([item for item, _ in batch])
            except asyncio.CancelledError:
                for _, future in batch + self._queue:
                    future.cancel()
                raise
            except Exception as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    @property
    def waiting(self) -> int:
        """Items not yet handed to a run (for tests)."""
        return len(self._queue)
