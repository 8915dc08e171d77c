"""Filling papers in from arXiv, now or later.

A proposal is saved first with a pending paper. The handler waits a few
seconds for arXiv; if arXiv is slow or down the user is told the card will
follow, and the retry loop (driven by ``papers.next_fetch_at`` in the
database, so it survives restarts) completes the paper and posts the card
(:mod:`bot.papers.card_delivery`, which also posts any card a dead process owed).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from enum import StrEnum

from bot.chat.markup import esc
from bot.chat.replies import say
from bot.infra.arxiv_client import ArxivUnavailable, ArxivUnreachable, PaperMeta
from bot.infra.arxiv_ref import InvalidReference
from bot.infra.runtime import Runtime
from bot.infra.settings import Settings
from bot.papers import proposals as svc
from bot.papers.card_delivery import post_owed_cards

log = logging.getLogger(__name__)

RETRY_POLL_SECONDS = 5.0
#: How long a command (/propose, /present) waits for arXiv's answer before it
#: goes ahead with the id and lets the retry loop finish the paper.
ARXIV_WAIT_SECONDS = 8.0


class Outcome(StrEnum):
    READY = "ready"
    NOT_FOUND = "not_found"
    INVALID = "invalid"
    UNAVAILABLE = "unavailable"
    #: No connection at all (refused, DNS): known at once, retried later.
    UNREACHABLE = "unreachable"


def waiting_handlers(bot: Runtime) -> set[int]:
    """Proposal ids whose command handler is waiting for the fetch right now."""
    return bot.inflight.marks("waiting proposal")


def fetch_paper(bot: Runtime, paper_id: int, arxiv_id: str) -> asyncio.Task[Outcome]:
    """One fetch task per paper at a time, shared by everyone waiting on it."""
    table = bot.inflight.tasks("paper")
    task = table.get(paper_id)
    if task is None or task.done():
        task = asyncio.ensure_future(_fetch_and_store(bot, paper_id, arxiv_id))
        task.set_name(f"fetch:{arxiv_id}")
        table[paper_id] = task
        task.add_done_callback(lambda _t: table.pop(paper_id, None))
        bot.tasks.add(task)
        task.add_done_callback(bot.tasks.discard)
    return task


async def _fetch_and_store(bot: Runtime, paper_id: int, arxiv_id: str) -> Outcome:
    try:
        meta = await bot.arxiv.lookup(arxiv_id)
    except InvalidReference:
        outcome = Outcome.INVALID
    except ArxivUnavailable as exc:
        when = await bot.db(
            svc.schedule_refetch,
            paper_id=paper_id,
            now=bot.clock.now(),
            first_delay=bot.settings.arxiv_refetch_seconds,
        )
        log.warning(
            "arXiv unavailable for %s (%s); next try at %s",
            arxiv_id,
            exc,
            when.strftime("%H:%M:%S UTC"),
        )
        return Outcome.UNREACHABLE if isinstance(exc, ArxivUnreachable) else Outcome.UNAVAILABLE
    else:
        if meta is not None:
            await _store_ready(bot, paper_id, meta)
            return Outcome.READY
        outcome = Outcome.NOT_FOUND
    try:
        told = await bot.db(svc.forget_paper, paper_id=paper_id)
    except Exception:
        # Never ask arXiv again at once for a paper we could not clean up.
        log.exception("could not remove %s, which arXiv does not have", arxiv_id)
        await bot.db(
            svc.schedule_refetch,
            paper_id=paper_id,
            now=bot.clock.now(),
            first_delay=bot.settings.arxiv_refetch_seconds,
        )
        return outcome
    waiting = waiting_handlers(bot)
    for proposal, member in told:
        if proposal.id in waiting:
            continue  # the handler still waiting on this fetch tells its user itself
        await _notify_missing(
            bot,
            member.platform,
            member.workspace,
            member.user_id,
            arxiv_id,
            was_scheduled=proposal.status == "scheduled",
        )
    return outcome


async def _store_ready(bot: Runtime, paper_id: int, meta: PaperMeta) -> None:
    """Fill the paper in. The papers of one arXiv answer, whose tasks all wake
    together, share one transaction (see :mod:`bot.infra.batch`), so the last
    card of a batch does not wait behind a transaction per paper."""
    error = await bot.inflight.batch("ready papers", functools.partial(_store_many, bot))(
        (paper_id, meta)
    )
    if error is not None:
        raise error


async def _store_many(bot: Runtime, items: list[tuple[int, PaperMeta]]) -> list[Exception | None]:
    now = bot.clock.now()

    try:
        await bot.db(svc.apply_metadata_many, filled=items, now=now)
        return [None] * len(items)
    except Exception:
        if len(items) == 1:
            raise
    # One of them failed the whole transaction: each on its own, so only it fails.
    errors: list[Exception | None] = []
    for paper_id, meta in items:
        try:
            await bot.db(svc.apply_metadata, paper_id=paper_id, meta=meta, now=now)
            errors.append(None)
        except Exception as exc:
            errors.append(exc)
    return errors


async def check_exists(bot: Runtime, arxiv_id: str, wait: float) -> Outcome | None:
    """Before a session points at a paper: does arXiv have it?

    A paper already filled in is known. Otherwise it is saved as pending and
    fetched (waiting up to ``wait`` seconds; None means arXiv is slow). A paper
    arXiv does not have is removed again, so nothing keeps asking for it.
    """
    paper = await bot.db(svc.get_or_create_paper, arxiv_id=arxiv_id, now=bot.clock.now())
    if paper.status == "ready":
        return Outcome.READY
    assert paper.id is not None
    task = fetch_paper(bot, paper.id, arxiv_id)
    try:
        async with bot.slots.given_up():  # waiting for arXiv takes no slot
            return await asyncio.wait_for(asyncio.shield(task), wait)
    except TimeoutError:
        return None


async def _notify_missing(
    bot: Runtime,
    platform: str,
    workspace: str,
    user_id: str,
    arxiv_id: str,
    *,
    was_scheduled: bool = False,
) -> None:
    session_note = (
        " It was the paper of a session, which now has none: pick another with `/present`."
        if was_scheduled
        else ""
    )
    try:
        await bot.messenger.direct(
            platform,
            workspace,
            user_id,
            say(
                f"arXiv has no paper `{esc(arxiv_id)}`, so your proposal of it was removed."
                f"{session_note} Check the id on arxiv.org and propose it again with "
                "`/propose <id>`.",
                private=True,
            ),
        )
    except Exception:
        log.exception("could not tell %s that %s does not exist", user_id, arxiv_id)


async def post_pending_cards(bot: Runtime, paper_id: int) -> int:
    """Post the cards that waited for this paper; returns how many went out."""
    return await post_owed_cards(bot, paper_id=paper_id)


async def complete_paper(bot: Runtime, paper_id: int, arxiv_id: str) -> Outcome:
    """Fetch a pending paper and, once it is ready, post the cards that waited."""
    outcome = await fetch_paper(bot, paper_id, arxiv_id)
    if outcome is Outcome.READY:
        await post_pending_cards(bot, paper_id)
    return outcome


async def retry_once(bot: Runtime) -> int:
    """Retry every pending paper that is due, and post the cards still owed
    (a poster died, or Slack refused); returns how many papers became ready."""
    await post_owed_cards(bot)
    due = await bot.db(svc.due_pending_papers, now=bot.clock.now())
    # A paper this process is fetching right now has someone on its cards: the
    # handler that started the fetch posts its own (or hands it on when it
    # stops waiting), and a later pass sweeps any other card owed once the
    # paper is ready. Joining that fetch here would only add a card query
    # per paper at the moment arXiv answers, ahead of the handlers' cards.
    fetching = bot.inflight.tasks("paper")
    tasks = [
        bot.spawn(complete_paper(bot, p.id, p.arxiv_id), name=f"complete:{p.arxiv_id}")
        for p in due
        if p.id is not None and p.id not in fetching
    ]
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    return sum(1 for o in outcomes if o is Outcome.READY)


def retry_pause(settings: Settings) -> float:
    """Seconds between retry passes: every few seconds, or sooner when papers
    are retried sooner or a dead poster's card lease ends sooner (short
    settings, as the tests use, then finish what was owed as quickly)."""
    return min(RETRY_POLL_SECONDS, settings.arxiv_refetch_seconds, settings.lease_seconds)


async def _retry_loop(bot: Runtime) -> None:
    pause = retry_pause(bot.settings)
    while True:
        try:
            await retry_once(bot)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("arXiv retry pass failed; trying again shortly")
        await asyncio.sleep(pause)


def start_retry_loop(bot: Runtime) -> None:
    bot.spawn(_retry_loop(bot), name="loop:arxiv-retry")
