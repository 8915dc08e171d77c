"""The console's way into a session's discussion thread.

On Slack and Discord people type in the thread and react with 💡; a terminal
has neither, so the console has its own syntax for them (``/reply`` or
``> text``, ``/thread``, ``/takeaway N``, ``/unmark N``). Each is turned into
the neutral event the other adapters send (:class:`bot.chat.events.ThreadMessage`,
:class:`bot.chat.events.Reaction`), so the core keeps the messages in the database
the same way for every platform: two console runs with different ``--user``
on one database see and mark the same thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import uuid4

from sqlmodel import Session, col, select

from bot.app import Bot
from bot.chat.dates import DateError, parse_day
from bot.chat.events import Actor, Place, Reaction, ThreadMessage
from bot.chat.plural import plural
from bot.chat.replies import Block, Context, Divider, Reply, Text
from bot.infra.clock import as_utc
from bot.papers import proposals as proposals_svc
from bot.papers.cards import title_of
from bot.schedule import discussion as discussion_svc
from bot.schedule import meetings as sched
from bot.schedule.reminders import when_text
from storage.groups.tables import Group
from storage.schedule.tables import MeetingSession, SessionStatus

#: The console-only lines of /help (the core's /help lists the shared commands).
HELP_LINES = (
    "**/reply <text>** (or `> text`) — post in the discussion thread of the latest session "
    "that has one.  e.g. `/reply The ablation in §4 is the key`",
    "**/thread [date]** — show that thread's messages, numbered, with who wrote each; "
    "a date picks that session's thread for what follows, no date the latest again.  "
    "e.g. `/thread 2026-11-19`",
    "**/takeaway N** — mark message N of the thread as a takeaway (a 💡 from you).  "
    "e.g. `/takeaway 2`",
    "**/unmark N** — take the 💡 off message N.  e.g. `/unmark 2`",
    "**/press N** — press the button shown with that number.  e.g. `/press 1`",
    "**/quit** — leave the console (so do Ctrl-D and the end of piped input).",
)

NO_THREAD = (
    "No session has a discussion thread yet. A session's thread opens when its paper is "
    "chosen (the presenter runs `/present <arXiv id>`), or with the channel reminder before "
    "the session. `/schedule` shows the sessions and their papers."
)
THREAD_EXAMPLES = "`/thread 2026-11-19` or `/thread last thursday`"


def help_blocks() -> tuple[Block, ...]:
    return (
        Divider(),
        Text("**In this console** (Slack and Discord use their own threads and reactions):"),
        Text("\n".join(HELP_LINES)),
        Context("Lines starting with `#` are ignored, so piped scripts can have comments."),
    )


@dataclass(frozen=True)
class Line:
    message_id: str
    author: str
    text: str
    takeaway: bool


@dataclass(frozen=True)
class ThreadView:
    meeting_id: int
    thread_id: str
    title: str
    lines: tuple[Line, ...]

    def numbered(self, n: int) -> Line | None:
        return self.lines[n - 1] if 1 <= n <= len(self.lines) else None


def load_thread(
    *,
    session: Session,
    place: Place,
    now: datetime,
    meeting_id: int | None = None,
    day_text: str = "",
) -> ThreadView | str:
    """The thread to work in, or what to tell the user when there is none:
    the session ``meeting_id`` (chosen earlier with ``/thread DATE``), the
    session on ``day_text``, or the latest session that has a thread."""
    group = session.exec(
        select(Group).where(
            Group.platform == place.platform,
            Group.workspace == place.workspace,
            Group.channel == place.channel,
        )
    ).first()
    if group is None or group.id is None:
        return NO_THREAD
    cfg = sched.get_settings(session=session, group_id=group.id, now=now)
    meeting: MeetingSession | None
    if day_text:
        tz = sched.zone(cfg.timezone or "UTC")
        try:
            day = parse_day(
                day_text,
                today=as_utc(now).astimezone(tz).date(),
                examples=THREAD_EXAMPLES,
                direction="past",
            )
        except DateError as exc:
            return str(exc)
        meeting = sched.session_on(session=session, group_id=group.id, day=day, tz=tz)
        if meeting is None:
            return f"There is no session on {day}. `/schedule` lists the sessions."
        if not meeting.thread_id:
            return f"The session on {day} has no discussion thread. " + NO_THREAD.split(". ", 1)[1]
    elif meeting_id is not None:
        meeting = session.get(MeetingSession, meeting_id)
    else:
        meeting = session.exec(
            select(MeetingSession)
            .where(
                MeetingSession.group_id == group.id,
                MeetingSession.status != SessionStatus.CANCELLED,
                col(MeetingSession.thread_id).is_not(None),
            )
            .order_by(col(MeetingSession.starts_at).desc())
        ).first()
    if meeting is None or meeting.id is None or not meeting.thread_id:
        return NO_THREAD
    title = when_text(meeting, cfg)
    if meeting.proposal_id is not None:
        e = proposals_svc.entry(session=session, proposal_id=meeting.proposal_id)
        if e is not None:
            title += f" — {title_of(e.paper)}"
    lines = tuple(
        Line(m.message_id, m.author_name or m.author_user_id, m.text, m.takeaway)
        for m in discussion_svc.messages(session=session, meeting_id=meeting.id)
    )
    return ThreadView(meeting.id, meeting.thread_id, title, lines)


def _quote(text: str, limit: int = 60) -> str:
    one = " ".join(text.split())
    return f"“{one if len(one) <= limit else one[: limit - 1] + '…'}”"


class ThreadCommands:
    """``/reply``, ``/thread``, ``/takeaway``, ``/unmark`` for one console user."""

    NAMES = frozenset({"reply", "thread", "takeaway", "unmark"})

    def __init__(self, bot: Bot, actor: Actor, place: Place, say: Callable[[str], None]) -> None:
        self.bot, self.actor, self.place, self.say = bot, actor, place, say
        #: A session picked with ``/thread DATE``; else the latest with a thread.
        self.meeting_id: int | None = None

    async def _view(self, day_text: str = "") -> ThreadView | None:
        view = await self.bot.db(
            load_thread,
            place=self.place,
            now=self.bot.clock.now(),
            meeting_id=self.meeting_id,
            day_text=day_text,
        )
        if isinstance(view, str):
            self.say(view + "\n")
            return None
        return view

    async def run(self, name: str, text: str) -> None:
        if name == "reply":
            await self.reply(text)
        elif name == "thread":
            await self.show(text)
        else:
            await self.mark(text, on=name == "takeaway")

    async def reply(self, text: str) -> None:
        if not text.strip():
            self.say(
                "Nothing to post: write the message after the command, e.g. "
                "`/reply The ablation in §4 is the key` or `> The ablation in §4 is the key`.\n"
            )
            return
        view = await self._view()
        if view is None:
            return
        message_id = f"console-{uuid4().hex[:16]}"
        where = Place(
            self.place.platform,
            self.place.workspace,
            self.place.channel,
            thread=view.thread_id,
            message=message_id,
        )
        await self.bot.handle(ThreadMessage(text.strip(), self.actor, where), _no_followup)
        after = await self._view()
        if after is None:
            return
        n = next((i for i, m in enumerate(after.lines, 1) if m.message_id == message_id), None)
        if n is None:
            self.say("The thread did not keep that message; please try again.\n")
            return
        self.say(
            f"Posted as message {n} in the thread of {after.title}.\n"
            f"`/thread` shows the thread; `/takeaway {n}` marks it as a takeaway 💡.\n"
        )

    async def show(self, day_text: str) -> None:
        if not day_text.strip():
            self.meeting_id = None  # back to the latest session's thread
        view = await self._view(day_text.strip())
        if view is None:
            return
        if day_text.strip():
            self.meeting_id = view.meeting_id  # later /reply and /takeaway go here too
        out = [f"Discussion thread: {view.title}", "═" * min(len(view.title) + 19, 72)]
        if not view.lines:
            out.append("No messages yet. `/reply <text>` (or `> text`) posts one.")
        for i, m in enumerate(view.lines, 1):
            out.append(f"{i:>3}. {'💡 ' if m.takeaway else ''}{m.author}: {m.text}")
        if view.lines:
            marked = sum(m.takeaway for m in view.lines)
            out.append(
                f"  {plural(len(view.lines), 'message')}, {marked} marked 💡. "
                "`/reply <text>` adds one, `/takeaway N` marks message N."
            )
        self.say("\n".join(out) + "\n")

    async def mark(self, arg: str, *, on: bool) -> None:
        verb = "takeaway" if on else "unmark"
        arg = arg.strip()
        # Only ASCII digits make a number: "²".isdigit() is True but int("²") fails.
        if not (arg.isascii() and arg.isdigit() and len(arg) <= 9):
            what = f"`{arg[:40]}` is not a message number." if arg else "Which message?"
            self.say(
                f"{what} Give the number `/thread` shows before the message, e.g. `/{verb} 2`.\n"
            )
            return
        view = await self._view()
        if view is None:
            return
        n = int(arg)
        line = view.numbered(n)
        if line is None:
            if not view.lines:
                self.say(
                    f"The thread of {view.title} has no messages yet, so there is no message {n}. "
                    "`/reply <text>` posts one.\n"
                )
            else:
                self.say(
                    f"There is no message {n}: the thread has "
                    f"{plural(len(view.lines), 'message')}. `/thread` shows them numbered.\n"
                )
            return
        said = f"message {n} ({line.author}: {_quote(line.text)})"
        if line.takeaway == on:
            state = "already a takeaway 💡" if on else "not marked as a takeaway"
            self.say(f"{said[0].upper()}{said[1:]} is {state}.\n")
            return
        where = Place(
            self.place.platform,
            self.place.workspace,
            self.place.channel,
            thread=view.thread_id,
            message=line.message_id,
        )
        await self.bot.handle(Reaction("💡", on, self.actor, where), _no_followup)
        if on:
            self.say(f"Marked {said} as a takeaway 💡. `/takeaways` lists the takeaways.\n")
        else:
            self.say(f"Took the 💡 off {said}; it is no longer a takeaway.\n")


async def _no_followup(reply: Reply) -> None:
    """Thread messages and reactions get no answer from the core."""
