"""Posting each proposal's card once, whatever dies on the way.

A proposal owes its card (``proposals.card_pending``) from the moment it is
saved until the card is out. Whoever posts it (the /propose handler, the
arXiv retry after an outage, or this sweep) first takes a lease on it
(``storage.leases``); a poster that dies lets the lease run out, and the
next sweep (at start and on every retry pass, on any replica) posts the card
of every ready paper whose card is still owed and free.

The /propose handler's card is a reply the adapter delivers after the
handler returns. An adapter that tracks its requests (the Slack inbox)
reports the delivery with :func:`confirm`; for any other the card counts as
posted when the handler returns it, as before.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.chat.events import Place
from bot.chat.markup import esc
from bot.chat.messenger import posted_before
from bot.chat.replies import Reply
from bot.infra import inbox
from bot.infra.clock import as_utc
from bot.infra.runtime import Runtime
from bot.papers import proposals as svc
from bot.papers.cards import paper_card

log = logging.getLogger(__name__)

CARD_TAG = "card:"


async def post_owed_cards(bot: Runtime, *, paper_id: int | None = None) -> int:
    """Post every owed card whose paper is ready and whose lease is free
    (only ``paper_id``'s if given); returns how many went out."""
    posted = 0
    for owed in await bot.db(
        svc.owed_cards, now=bot.clock.now(), grace=bot.lease, paper_id=paper_id
    ):
        proposal_id, group = owed.proposal_id, owed.group
        if not await bot.db(
            svc.claim_card, proposal_id=proposal_id, now=bot.clock.now(), lease=bot.lease
        ):
            continue  # another replica or the handler has it
        place = Place(group.platform, group.workspace, group.channel)
        if owed.in_doubt and await _already_out(bot, place, proposal_id, owed.created_at):
            await bot.db(svc.card_posted, proposal_id=proposal_id)
            continue
        e = await bot.db(svc.entry, proposal_id=proposal_id)
        if e is None:
            continue
        who = esc(e.proposer.name or e.proposer.user_id)
        note = (
            f"arXiv is back: here is the paper {who} proposed."
            if _arxiv_was_late(e)
            else f"Here is the paper {who} proposed."
        )
        try:
            await bot.messenger.post(place, paper_card(e, note=note))
        except Exception:
            log.exception("could not post the card of proposal %s; will retry", proposal_id)
            await bot.db(svc.release_card, proposal_id=proposal_id, now=bot.clock.now())
            continue
        await bot.db(svc.card_posted, proposal_id=proposal_id)
        posted += 1
    return posted


async def _already_out(bot: Runtime, place: Place, proposal_id: int, since: datetime) -> bool:
    """Whether the card of a poster that died (or gave up) went out after all."""
    found = await posted_before(bot.messenger, place, f"{CARD_TAG}{proposal_id}", since)
    return found is not None


#: A paper filled in later than this after its proposal waited for arXiv.
LATE = timedelta(seconds=8)


def _arxiv_was_late(e: svc.Entry) -> bool:
    fetched = e.paper.fetched_at
    return e.paper.fetch_attempts > 0 or (
        fetched is not None and as_utc(fetched) - as_utc(e.proposal.created_at) > LATE
    )


def card_of(reply: Reply) -> int | None:
    """The proposal id of a paper card reply, else None."""
    tag = reply.tag
    if tag.startswith(CARD_TAG) and tag[len(CARD_TAG) :].isdigit():
        return int(tag[len(CARD_TAG) :])
    return None


async def confirm(bot: Runtime, replies: list[Reply], *, request_id: int | None = None) -> None:
    """The adapter delivered these replies: their cards are posted, and the
    stored request ``request_id`` (if given) is done, in one transaction."""
    cards = [
        proposal_id
        for reply in replies
        if (proposal_id := card_of(reply)) is not None and not reply.replace
    ]
    if not cards and request_id is None:
        return
    now = bot.clock.now()

    def mark(*, session: Session) -> None:
        for proposal_id in cards:
            svc.card_posted(session=session, proposal_id=proposal_id)
        if request_id is not None:
            inbox.done(session=session, item_id=request_id, now=now)

    await bot.db(mark)
