"""What every feature is given: the process's shared services, built once by
:mod:`bot.app` and passed to handlers as ``ctx.bot``.

It holds services, not features: the database (each call one transaction,
waiting out an outage), the arXiv and LLM clients, the clock, the messenger,
background tasks, and :class:`InFlight` for work one process must not start
twice. Features keep their own state in their own modules and reach each
other by import, never through this object; the composition root
(:class:`bot.app.Bot`) adds the router and the loops on top.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from bot.chat.messenger import Messenger, NullMessenger
from bot.chat.router import Ctx as _Ctx
from bot.infra.arxiv_client import ArxivClient
from bot.infra.batch import Batch
from bot.infra.clock import Clock, SystemClock
from bot.infra.db_outage import is_outage
from bot.infra.llm import LlmClient, client_from_settings
from bot.infra.settings import Settings
from bot.infra.slots import Slots
from storage.engine import Announcement, session_scope, writer_turns

log = logging.getLogger(__name__)
T = TypeVar("T")
#: How long a command waits for an unavailable database before giving up.
DB_RETRY_SECONDS = 60.0
#: Threads for the database work a platform waits on (see Runtime.db_urgent).
URGENT_DB_THREADS = 2


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


@dataclass
class InFlight:
    """Work under way in this process, by kind and row id: tasks that everyone
    asking for the same row shares (``"paper"``: one arXiv fetch per paper),
    and marks that say a handler in this process is on a row right now."""

    _tasks: dict[str, dict[int, asyncio.Task[Any]]] = field(default_factory=dict)
    _marks: dict[str, set[int]] = field(default_factory=dict)
    _batches: dict[str, Batch[Any, Any]] = field(default_factory=dict)

    def tasks(self, kind: str) -> dict[int, asyncio.Task[Any]]:
        return self._tasks.setdefault(kind, {})

    def marks(self, kind: str) -> set[int]:
        return self._marks.setdefault(kind, set())

    def batch(self, kind: str, run: Callable[[list[Any]], Awaitable[list[Any]]]) -> Batch[Any, Any]:
        """This process's :class:`~bot.infra.batch.Batch` of ``kind`` (made
        with ``run`` the first time)."""
        found = self._batches.get(kind)
        if found is None:
            found = self._batches[kind] = Batch(run)
        return found


_UNSET: Any = object()


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    arxiv: ArxivClient
    clock: Clock = field(default_factory=SystemClock)
    messenger: Messenger = field(default_factory=NullMessenger)
    #: Background tasks (retries, card posts); awaited on shutdown.
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    inflight: InFlight = field(default_factory=InFlight)
    #: Called when something that shapes the schedule changed (the
    #: composition root points it at the reminder loop once it runs).
    schedule_changed: Callable[[], None] = field(default=lambda: None)
    #: Background handlers working at once (see bot.infra.slots).
    slots: Slots = field(default_factory=Slots)
    _llm: Any = field(default=_UNSET, repr=False)
    _urgent: ThreadPoolExecutor | None = field(default=None, repr=False)

    @property
    def llm(self) -> LlmClient | None:
        """The LLM client (one per process, so the concurrency bound and the
        breaker are shared), or None without a key: offline summaries."""
        if self._llm is _UNSET:
            self._llm = client_from_settings(self.settings)
        return self._llm

    @llm.setter
    def llm(self, client: LlmClient | None) -> None:
        self._llm = client

    async def db(self, fn: Callable[..., T], /, **kwargs: object) -> T:
        """Run ``fn(session=..., **kwargs)`` in one transaction, off the event loop."""
        return await self._db(fn, kwargs, None)

    async def db_urgent(self, fn: Callable[..., T], /, **kwargs: object) -> T:
        """:meth:`db` on threads of its own, for what a platform is waiting
        on (storing a request before its acknowledgment): it never queues
        behind the background work (card posts after an arXiv batch) that
        fills the default executor."""
        if self._urgent is None:
            self._urgent = ThreadPoolExecutor(URGENT_DB_THREADS, thread_name_prefix="db-urgent")
        return await self._db(fn, kwargs, self._urgent)

    async def _db(
        self, fn: Callable[..., T], kwargs: dict[str, object], pool: ThreadPoolExecutor | None
    ) -> T:
        def work(announced: Announcement | None = None) -> T:
            with session_scope(
                self.engine, urgent=pool is not None, announced=announced
            ) as session:
                return fn(session=session, **kwargs)

        loop = asyncio.get_running_loop()
        delay = 0.2
        waited = 0.0
        turns = writer_turns(self.engine)
        while True:
            try:
                if pool is None:
                    return await asyncio.to_thread(work)
                # Announced now, so no background transaction takes the write
                # lock while this one waits for its thread (see WriterTurns).
                announced = turns.announce() if turns is not None else None
                try:
                    call = functools.partial(contextvars.copy_context().run, work, announced)
                    return await loop.run_in_executor(pool, call)
                finally:
                    if announced is not None:
                        announced.withdraw()
            except OperationalError as exc:
                # The database went away (a restart, a failover, a locked SQLite
                # file): the transaction was rolled back, so wait and run it
                # again rather than lose the user's command. Other operational
                # errors (a query too complex, say) fail the same way every time.
                if waited >= DB_RETRY_SECONDS or not is_outage(exc):
                    raise
                log.warning(
                    "database unavailable (%s); retrying in %.1f s", _first_line(exc), delay
                )
                await asyncio.sleep(delay)
                waited += delay
                delay = min(delay * 2, 5.0)

    def db_sync(self, fn: Callable[..., T], /, **kwargs: object) -> T:
        with session_scope(self.engine) as session:
            return fn(session=session, **kwargs)

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    @property
    def lease(self) -> timedelta:
        """How long this process holds work it took (see ``storage.leases``)."""
        return timedelta(seconds=self.settings.lease_seconds)

    @property
    def publish_lease(self) -> timedelta:
        """How long a claim to publish a post holds (``bot.digest.publishing``)."""
        return timedelta(seconds=self.settings.publish_lease_seconds)

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str = "") -> asyncio.Task[Any]:
        """Run work in the background, keeping a reference so it is not lost."""
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        if name:
            task.set_name(name)
        self.tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s failed", task.get_name(), exc_info=task.exception())

    async def drain(self, seconds: float = 5.0) -> None:
        """Wait a little for background work (console end of input, tests)."""
        pending = [t for t in self.tasks if not t.done() and not t.get_name().startswith("loop:")]
        if pending:
            await asyncio.wait(pending, timeout=seconds)

    async def aclose(self) -> None:
        """Cancel background work and close the arXiv client (no request it
        still holds goes out after this)."""
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)
        if self._urgent is not None:
            self._urgent.shutdown(wait=False)
            self._urgent = None
        await self.arxiv.aclose()


#: What a handler gets: the runtime, the event, and a way to reply again.
Ctx = _Ctx[Runtime]
