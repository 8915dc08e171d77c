"""Session discussion threads: thread messages are kept, a bulb marks a
takeaway, ``/takeaways`` lists them.

What adapters must send (neutral events, see :mod:`bot.chat.events`):

- ``ThreadMessage``: ``place.platform`` and ``place.workspace`` as for any
  event, ``place.thread`` = the thread id the bot got back from
  ``Messenger.open_thread`` (Slack: the card's ``ts``; Discord: the thread
  channel id), ``place.message`` = this message's own id (used to dedupe
  redeliveries and to find it again when someone reacts). ``place.channel``
  is NOT matched (a Discord thread is its own channel). Messages in threads
  that are not a session's are ignored. The bot's own messages should be
  dropped by the adapter.
- ``Reaction``: ``place.message`` = the reacted message's id, with
  ``place.platform``/``place.workspace``; ``emoji`` in the neutral form, the
  emoji character (``💡``: the Slack adapter translates ``bulb``); ``added``
  False on removal.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.chat.dates import DateError, parse_day
from bot.chat.events import Command, Reaction, ThreadMessage
from bot.chat.markup import bold, esc, mention
from bot.chat.replies import Context, Header, Reply, Text, error, say
from bot.chat.router import Option, Router
from bot.groups.context import Who, resolve, shorten
from bot.infra.clock import as_utc
from bot.infra.runtime import Ctx
from bot.schedule import discussion as svc
from bot.schedule import meetings as sched
from bot.schedule.reminders import when_text
from storage.schedule.meeting_queries import first_session_with_thread, last_started_session
from storage.schedule.tables import MeetingSession

TAKEAWAYS_EXAMPLES = "`/takeaways 2026-11-19`, `/takeaways yesterday` or `/takeaways last thursday`"


def register(router: Router) -> None:
    router.command(
        "takeaways",
        summary="Takeaways (💡-marked thread messages) of the last session, or of a date.",
        example="/takeaways 2026-11-19",
        options=(Option("date", "a session date, e.g. 2026-11-19 (default: the last one)"),),
    )(show_takeaways)
    router.thread_message(on_thread_message)
    router.reaction(on_reaction)


async def on_thread_message(ctx: Ctx) -> None:
    """Keep a message posted in a session's thread (matched on platform,
    workspace and ``place.thread``; deduped on ``place.message``)."""
    bot, ev = ctx.bot, ctx.event
    assert isinstance(ev, ThreadMessage)
    if not ev.place.thread or not ev.text.strip():
        return
    sent_at = as_utc(ev.sent_at) if ev.sent_at else bot.clock.now()
    message_id = ev.place.message or f"{ev.actor.user_id}@{sent_at.isoformat()}"

    def work(*, session: Session) -> None:
        meeting = svc.session_for_thread(
            session=session,
            platform=ev.place.platform,
            workspace=ev.place.workspace,
            thread_id=ev.place.thread or "",
        )
        if meeting is None or meeting.id is None:
            return
        svc.store_message(
            session=session,
            meeting_id=meeting.id,
            message_id=message_id,
            author_user_id=ev.actor.user_id,
            author_name=ev.actor.name,
            text=ev.text,
            sent_at=sent_at,
        )

    await bot.db(work)


async def on_reaction(ctx: Ctx) -> None:
    """A bulb on a stored thread message marks it a takeaway; removing the
    bulb unmarks it (matched on platform, workspace and ``place.message``)."""
    bot, ev = ctx.bot, ctx.event
    assert isinstance(ev, Reaction)
    if not ev.place.message or not svc.is_takeaway_emoji(ev.emoji):
        return
    await bot.db(
        svc.mark_takeaway,
        platform=ev.place.platform,
        workspace=ev.place.workspace,
        message_id=ev.place.message,
        on=ev.added,
        by=ev.actor.user_id,
    )


async def show_takeaways(ctx: Ctx) -> Reply:
    bot, cmd = ctx.bot, ctx.event
    assert isinstance(cmd, Command)
    now = bot.clock.now()

    def work(*, session: Session) -> Reply:
        who = resolve(
            session=session, actor=cmd.actor, place=cmd.place, settings=bot.settings, now=now
        )
        return _takeaways(session, who, now, cmd.text.strip())

    return await bot.db(work)


def _takeaways(session: Session, who: Who, now: datetime, text: str) -> Reply:
    assert who.group.id is not None
    cfg = sched.get_settings(session=session, group_id=who.group.id, now=now)
    tz = sched.zone(cfg.timezone or "UTC")
    meeting: MeetingSession | None
    if text:
        try:
            first = parse_day(
                text,
                today=as_utc(now).astimezone(tz).date(),
                examples=TAKEAWAYS_EXAMPLES,
                direction="past",
            )
        except DateError as exc:
            return error(str(exc))
        meeting = sched.session_on(session=session, group_id=who.group.id, day=first, tz=tz)
        if meeting is None:
            return error(f"There was no session on {first}. `/schedule` lists the sessions.")
    else:
        meeting = last_started_session(session, group_id=who.group.id, now=now)
        if meeting is None:
            # Before the first session, the thread of the upcoming one may
            # already hold takeaways: people discuss the paper in advance.
            meeting = first_session_with_thread(session, group_id=who.group.id)
        if meeting is None:
            return say("No session has happened yet, so there are no takeaways.", private=True)
    assert meeting.id is not None
    thread = svc.messages(session=session, meeting_id=meeting.id)
    keep = [m for m in thread if m.takeaway]
    head = Header(shorten(f"Takeaways: {when_text(meeting, cfg)}", 150))
    if not keep:
        return Reply(
            blocks=(
                head,
                Text(
                    f"None marked yet ({len(thread)} message{'s' if len(thread) != 1 else ''} "
                    "in the thread). React with 💡 to a thread message to keep it."
                ),
            ),
        )
    lines = [f"• {esc(shorten(m.text, 500))} — {mention(m.author_user_id)}" for m in keep]
    return Reply(
        blocks=(
            head,
            Text("\n".join(lines)),
            Context(f"{bold(str(len(keep)))} of {len(thread)} thread messages marked with 💡."),
        ),
    )
