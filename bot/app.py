"""The composition root: the only module that imports every feature.

It builds the :class:`~bot.infra.runtime.Runtime` every handler is given,
registers each feature's commands on one router, and starts and stops the
loops (arXiv retries, reminders, publication recovery). Adapters talk to the
core through this module and :mod:`bot.chat` (an import-linter contract):
what they need of the features beyond the router and the loops is named
right after the imports, and :func:`home_for` at the end.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from bot.chat import help as help_area
from bot.chat.events import Event
from bot.chat.messenger import Messenger, NullMessenger
from bot.chat.replies import Block, Reply
from bot.chat.router import Respond, Router
from bot.digest import routes as digest_routes
from bot.groups.choices import known_members as known_members
from bot.groups.places import check_place
from bot.infra import inbox
from bot.infra.arxiv_client import ArxivClient
from bot.infra.clock import Clock, SystemClock
from bot.infra.runtime import Runtime
from bot.infra.settings import Settings
from bot.infra.settings import SettingsError as SettingsError
from bot.papers import card_delivery, fetch, propose_command
from bot.papers import commands as proposals_commands
from bot.papers.choices import open_proposal_choices as open_proposal_choices
from bot.papers.fetch import start_retry_loop
from bot.schedule import commands as schedule_commands
from bot.schedule import discussion_commands, home_view
from bot.schedule.scheduler import ScheduleRunner, start_scheduler
from bot.schedule.thread_view import ThreadView as ThreadView
from bot.schedule.thread_view import load_thread as load_thread
from storage.connect import open_database
from storage.engine import dispose_all, make_engine

log = logging.getLogger(__name__)

# The adapters' way into the features (they import only this module and
# bot.chat): these, the names re-exported above (Settings, SettingsError,
# known_members, open_proposal_choices, ThreadView, load_thread) and home_for.
inbox_accept = inbox.accept
inbox_claim = inbox.claim
inbox_due = inbox.due
inbox_done = inbox.done
inbox_forget_old = inbox.forget_old
confirm_cards = card_delivery.confirm
retry_waiting_papers = fetch.retry_once
expect_lookups = propose_command.expect_lookups
dispose_engines = dispose_all


@dataclass
class Bot(Runtime):
    """The composition root: the runtime every feature is given, plus the
    router and the loops this process runs (started by :meth:`start`)."""

    router: Router = field(default_factory=Router)
    #: The reminder loop once :meth:`start` has run (tests and the console
    #: drive it directly).
    schedule_runner: ScheduleRunner | None = None

    async def handle(
        self, event: Event, respond: Respond, *, request_id: int | None = None
    ) -> list[Reply]:
        return await self.router.handle(self, event, respond, request_id=request_id)

    def start(self) -> None:
        """Start background loops (call inside the running event loop)."""
        start_retry_loop(self)
        self.schedule_runner = start_scheduler(self)
        self.schedule_changed = self.schedule_runner.changed
        digest_routes.start_recovery(self)


def build_router() -> Router:
    """Every feature registers its commands and buttons on one router."""
    router = Router(place_check=check_place)
    proposals_commands.register(router)
    schedule_commands.register(router)
    discussion_commands.register(router)
    digest_routes.register(router)
    help_area.register(router)  # last: it lists what the others registered
    return router


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


async def home_for(bot: Bot, *, platform: str, workspace: str, user_id: str) -> list[Block]:
    """One viewer's home (Slack's App Home) as neutral blocks."""
    data = await bot.db(
        home_view.load_home,
        platform=platform,
        workspace=workspace,
        user_id=user_id,
        now=bot.clock.now(),
    )
    return home_view.home_blocks(data)
