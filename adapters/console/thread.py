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
from uuid import uuid4

from bot.app import Bot, ThreadView, load_thread
from bot.chat.events import Actor, Place, Reaction, ThreadMessage
from bot.chat.plural import plural
from bot.chat.replies import Block, Context, Divider, Reply, Text

#: The console-only lines of /help (the core's /help lists the shared commands).
HELP_LINES = (
    "**/reply <text>** (or `> text`) — post in the discussion thread of the latest session "
    "that has one (a session's thread opens when its paper is picked with `/present`).  "
    "e.g. `/reply The ablation in §4 is the key`",
    "**/thread [date]** — show that thread's messages, numbered, with who wrote each; "
    "a date picks that session's thread for what follows, no date the latest again.  "
    "e.g. `/thread 2026-11-19`",
    "**/takeaway N** — mark message N of the thread as a takeaway (a 💡 from you); "
    "takeaways show in `/takeaways` and in the digest.  e.g. `/takeaway 2`",
    "**/unmark N** — take the 💡 off message N.  e.g. `/unmark 2`",
    "**/press N** — press the button shown with that number.  e.g. `/press 1`",
    "**/quit** — leave the console (so do Ctrl-D and the end of piped input).",
)

THREAD_EXAMPLES = "`/thread 2026-11-19` or `/thread last thursday`"


def help_blocks() -> tuple[Block, ...]:
    return (
        Divider(),
        Text("**In this console** (Slack and Discord use their own threads and reactions):"),
        Text("\n".join(HELP_LINES)),
        Context(
            "To talk as someone else, run `readgroup console --user NAME` on the same database: "
            "every run sees the same threads and 💡 marks. "
            "Lines starting with `#` are ignored, so piped scripts can have comments."
        ),
    )


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
            examples=THREAD_EXAMPLES,
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
