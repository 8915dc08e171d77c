"""The bot: the services every handler and adapter shares, built once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from bot.arxiv_client import ArxivClient
from bot.clock import Clock, SystemClock
from bot.db_outage import is_outage
from bot.events import Event
from bot.messenger import Messenger, NullMessenger
from bot.replies import Reply
from bot.router import Respond, Router
from bot.settings import Settings
from storage.connect import open_database
from storage.engine import make_engine, session_scope

log = logging.getLogger(__name__)
T = TypeVar("T")
#: How long a command waits for an unavailable database before giving up.
DB_RETRY_SECONDS = 60.0


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


@dataclass
class Bot:
    settings: Settings
    engine: Engine
    router: Router
    arxiv: ArxivClient
    clock: Clock = field(default_factory=SystemClock)
    messenger: Messenger = field(default_factory=NullMessenger)
    #: Background tasks the bot owns (retries, card posts); awaited on shutdown.
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    #: arXiv fetches in flight, by paper id, shared by everyone waiting on them.
    paper_fetches: dict[int, asyncio.Task[Any]] = field(default_factory=dict)
    #: Proposal ids whose /propose handler is still waiting for its fetch.
    waiting_proposals: set[int] = field(default_factory=set)
    #: Hooks other areas register to start their loops with the bot.
    starters: list[Callable[[Bot], None]] = field(default_factory=list)

    async def db(self, fn: Callable[..., T], /, **kwargs: object) -> T:
        """Run ``fn(session=..., **kwargs)`` in one transaction, off the event loop."""

        def work() -> T:
            with session_scope(self.engine) as session:
                return fn(session=session, **kwargs)

        delay = 0.2
        waited = 0.0
        while True:
            try:
                return await asyncio.to_thread(work)
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

    async def handle(
        self, event: Event, respond: Respond, *, request_id: int | None = None
    ) -> list[Reply]:
        return await self.router.handle(self, event, respond, request_id=request_id)

    @property
    def lease(self) -> timedelta:
        """How long this process holds work it took (see ``storage.leases``)."""
        return timedelta(seconds=self.settings.lease_seconds)

    @property
    def publish_lease(self) -> timedelta:
        """How long a claim to publish a post holds (``bot.publishing``)."""
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

    def start(self) -> None:
        """Start background loops (call inside the running event loop)."""
        from bot.paper_fetch import start_retry_loop
        from bot.publishing import start_recovery
        from bot.scheduler import start_scheduler

        start_retry_loop(self)
        start_scheduler(self)
        start_recovery(self)
        for starter in self.starters:
            starter(self)

    async def drain(self, seconds: float = 5.0) -> None:
        """Wait a little for background work (console end of input, tests)."""
        pending = [t for t in self.tasks if not t.done() and not t.get_name().startswith("loop:")]
        if pending:
            await asyncio.wait(pending, timeout=seconds)

    async def aclose(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)


def open_engine(settings: Settings, engine: Engine | None = None) -> Engine:
    """The database engine, connected, upgraded and writable, or
    :class:`~storage.connect.DatabaseUnavailable` with a one-line reason."""
    engine = engine or make_engine(settings.database_url)
    open_database(
        engine,
        url=settings.database_url,
        attempts=settings.database_connect_attempts,
        retry_seconds=settings.database_connect_retry_seconds,
    )
    return engine


def build_bot(
    settings: Settings,
    *,
    clock: Clock | None = None,
    messenger: Messenger | None = None,
    arxiv: ArxivClient | None = None,
    engine: Engine | None = None,
    migrate: bool = True,
) -> Bot:
    """Wire the bot from settings; upgrades the schema unless told not to."""
    from bot.handlers import build_router

    engine = engine or make_engine(settings.database_url)
    if migrate:
        open_engine(settings, engine)
    bot = Bot(
        settings=settings,
        engine=engine,
        router=build_router(),
        arxiv=arxiv
        or ArxivClient(
            api_url=settings.arxiv_api_url,
            min_interval=settings.arxiv_interval_seconds,
            backoff=settings.arxiv_backoff_seconds,
        ),
        clock=clock or SystemClock(),
        messenger=messenger or NullMessenger(),
    )
    return bot
