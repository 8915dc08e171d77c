"""A session's paper card: the channel message its discussion thread hangs on.

It goes out as soon as the session has its paper, whoever chose it:

* the presenter or an organizer with ``/present`` (or the nudge's button):
  :func:`post_card`, right after the choice;
* the pick deadline, which gives the top-voted paper to a session nobody
  chose one for (:func:`bot.schedule.catch_up.auto_pick`): a scheduled
  delivery of kind ``card`` (:mod:`bot.schedule.reminders`) posts the same
  card, claimed exactly once like any reminder, so the thread opens then and
  not only with the channel reminder the day before.

``/present`` of the paper a session already has changes nothing: it says so
(:func:`already_text`), and posts the card if the session has no thread yet.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlmodel import Session

from bot.chat.events import Place
from bot.chat.markup import bold, esc, mention
from bot.chat.messenger import DeliveryError
from bot.chat.replies import Context, Reply
from bot.groups.places import announcement_place
from bot.papers import proposals as proposals_svc
from bot.papers.cards import paper_card, title_of
from bot.schedule.presenter_messages import when_text
from storage.groups.tables import Group, Member
from storage.schedule.meeting_queries import scheduled_session_of_proposal
from storage.schedule.tables import GroupSettings, MeetingSession

if TYPE_CHECKING:
    from bot.infra.runtime import Runtime

log = logging.getLogger(__name__)

THREAD_HINT = "Discuss it in this thread; react with 💡 to keep a takeaway."


def card_for(*, session: Session, session_id: int) -> tuple[Reply, Place, str] | None:
    """The card of a session's paper, where it goes, and the thread's name;
    None if the session has no paper."""
    meeting = session.get(MeetingSession, session_id)
    if meeting is None or meeting.proposal_id is None:
        return None
    e = proposals_svc.entry(session=session, proposal_id=meeting.proposal_id)
    group = session.get(Group, meeting.group_id)
    cfg = session.get(GroupSettings, meeting.group_id)
    if e is None or group is None or cfg is None:
        return None
    presenter = (
        session.get(Member, meeting.presenter_member_id) if meeting.presenter_member_id else None
    )
    when = bold(esc(when_text(meeting, cfg)))
    if presenter is None:
        note = f"The paper for {when}; nobody presents it yet: `/rotation join` to take it."
    elif meeting.paper_chosen_by == "deadline":
        note = f"{mention(presenter.user_id)} presents this on {when} (the top-voted paper)."
    else:
        note = f"{mention(presenter.user_id)} presents this on {when}."
    card = paper_card(e, note=note)
    blocks = (*card.blocks, Context(THREAD_HINT))
    place = announcement_place(group, cfg.announce_channel)
    reply = Reply(blocks=blocks, tag=card.tag, fallback_text=card.fallback_text)
    return reply, place, title_of(e.paper)[:90]


def store_thread(*, session: Session, session_id: int, message_id: str, thread_id: str) -> None:
    """A new card for the session: its thread is now where the discussion goes."""
    meeting = session.get(MeetingSession, session_id)
    if meeting is None:
        return
    meeting.card_message_id, meeting.thread_id = message_id, thread_id
    session.add(meeting)


@dataclass(frozen=True)
class Posted:
    """How posting a card went: ``in_channel`` if it is out with its thread
    recorded; otherwise ``card`` is to be shown to whoever asked instead."""

    in_channel: bool
    card: Reply


async def post_card(bot: Runtime, *, session_id: int) -> Posted | None:
    """Post a session's card in the channel and open its thread on it;
    None if the session has no paper."""
    found = await bot.db(card_for, session_id=session_id)
    if found is None:
        return None
    reply, place, name = found
    try:
        message_id = await bot.messenger.post(place, reply)
    except DeliveryError as exc:
        log.warning("could not post the card for session %s: %s", session_id, exc)
        return Posted(False, reply)  # the channel reminder opens the thread later
    if message_id is None:
        return Posted(False, reply)
    thread_id = None
    try:
        thread_id = await bot.messenger.open_thread(place, message_id, name)
    except DeliveryError as exc:
        log.warning("posted the card but could not open its thread: %s", exc)
    await bot.db(
        store_thread,
        session_id=session_id,
        message_id=message_id,
        thread_id=thread_id or message_id,
    )
    return Posted(True, reply)


def already_text(title: str, when: str) -> str:
    return f"{bold(esc(title))} is already the paper for {esc(when)}; nothing to change."


def scheduled_elsewhere(*, session: Session, proposal_id: int, title: str, target: str) -> str:
    """Why a paper can't go on the session ``target`` (its when-text): it is
    another session's paper, named with its date and presenter."""
    meeting = scheduled_session_of_proposal(session, proposal_id=proposal_id)
    cfg = session.get(GroupSettings, meeting.group_id) if meeting is not None else None
    if meeting is None or cfg is None:
        return (
            f"{bold(esc(title))} is already scheduled for another session. "
            f"Pick another for {esc(target)} from `/queue`."
        )
    presenter = (
        session.get(Member, meeting.presenter_member_id) if meeting.presenter_member_id else None
    )
    by = f" ({mention(presenter.user_id)} presents it)" if presenter is not None else ""
    return (
        f"{bold(esc(title))} is already the paper for {esc(when_text(meeting, cfg))}{by}, "
        f"not for {esc(target)}. Pick another for {esc(target)} from `/queue`; "
        "`/schedule` shows who presents what."
    )
