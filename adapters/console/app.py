"""`readgroup console`: the bot in the terminal, no credentials needed.

Interactive on a terminal; with piped input it runs one command per line and
exits 0 at the end of input (after giving pending work a moment to finish).
"""

from __future__ import annotations

import asyncio
import dataclasses
import getpass
import logging
import queue
import sys
import threading
from pathlib import Path
from typing import TextIO
from uuid import uuid4

from adapters.console.render import ButtonBook, render
from adapters.console.thread import ThreadCommands, help_blocks
from bot.app import Bot, retry_waiting_papers
from bot.chat.events import Action, Actor, Command, Place
from bot.chat.replies import Attachment, Form, Reply

PLATFORM = "console"
WORKSPACE = "local"
CHANNEL = "general"
log = logging.getLogger(__name__)


def save_files(files: tuple[Attachment, ...], directory: Path) -> list[str]:
    """Write a reply's files (a calendar export) into ``directory``, usually
    where the console was started, and say where each went: a terminal can't
    take an attachment, and 150 lines of iCalendar on screen help nobody."""
    lines = []
    for f in files:
        path = directory / (Path(f.name).name or "readgroup-file")
        try:
            path.write_bytes(f.content)
        except OSError as exc:
            lines.append(f"Could not save {path}: {exc.strerror or exc}. Its content:")
            lines.append(f.content.decode("utf-8", "replace"))
            continue
        lines.append(f"Saved {f.name} to {path.resolve()} ({len(f.content):,} bytes).")
    return lines


class ConsoleMessenger:
    """Messages the bot sends on its own (late cards, reminders) go to the screen."""

    def __init__(
        self, out: TextIO, book: ButtonBook, files_dir: Path | None = None, *, user: str = ""
    ) -> None:
        self.out = out
        self.book = book
        #: Who runs this console (``--user``): direct messages to anyone else
        #: are shown too (there is no other screen), but labelled as theirs.
        self.user = user
        self.files_dir = files_dir or Path.cwd()
        self._n = 0
        # Message ids (and so thread ids) must not repeat across runs on one
        # database, or a new run's thread would be taken for an old session's.
        self._run = uuid4().hex[:8]

    def _print(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def _show(self, reply: Reply, where: str) -> None:
        self._print(render(reply, self.book, where=where))
        for line in save_files(reply.files, self.files_dir):
            self._print(line)

    async def post(self, place: Place, reply: Reply) -> str | None:
        self._n += 1
        where = f"#{place.channel}" + (f" thread {place.thread}" if place.thread else "")
        self._show(reply, where)
        return f"m{self._n}-{self._run}"

    async def direct(self, platform: str, workspace: str, user_id: str, reply: Reply) -> str | None:
        self._n += 1
        if not self.user or user_id == self.user:
            self._show(reply, f"direct message to {user_id}")
        else:
            # Someone else's: their buttons get no /press number (pressing one
            # here would act as the wrong person).
            self._print(render(reply, None, where=f"direct message to @{user_id}, not to you"))
            self._print(
                f"  (This is for @{user_id}, not you (@{self.user}); "
                f"`readgroup console --user {user_id}` answers it as them.)"
            )
            for line in save_files(reply.files, self.files_dir):
                self._print(line)
        return f"m{self._n}-{self._run}"

    async def open_thread(self, place: Place, message_id: str, name: str) -> str | None:
        # A terminal has no thread to click into: say how to get there.
        self._print(
            "  (In the console, `/reply <text>` or `> text` posts in this thread, `/thread` "
            "shows it and `/takeaway N` marks message N with 💡.)"
        )
        return message_id


class Console:
    def __init__(
        self, bot: Bot, *, user: str, organizer: bool, out: TextIO, files_dir: Path | None = None
    ) -> None:
        self.bot = bot
        self.out = out
        #: Where files that come with a reply are written (the working directory).
        self.files_dir = files_dir or Path.cwd()
        self.book = ButtonBook()
        self.actor = Actor(PLATFORM, user, user, is_admin=organizer)
        self.place = Place(PLATFORM, WORKSPACE, CHANNEL)
        self.thread = ThreadCommands(bot, self.actor, self.place, self._print)

    def _print(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    async def _show(self, reply: Reply) -> None:
        self._print(render(reply, self.book))
        for line in save_files(reply.files, self.files_dir):
            self._print(line)
        self._print("")

    async def run_line(self, line: str) -> None:
        line = line.strip()
        if not line or line.startswith("#"):
            return
        if line.startswith(">"):
            await self.thread.reply(line[1:])
            return
        if not line.startswith("/"):
            self._print(
                "Commands start with a slash, e.g. /queue; `> text` replies in the discussion "
                "thread. Type /help to see them all.\n"
            )
            return
        name, _, text = line[1:].partition(" ")
        if name.lower() in ThreadCommands.NAMES:
            await self.thread.run(name.lower(), text)
            return
        if name == "press":
            await self._press(text.strip())
            return
        if name in {"quit", "exit"}:
            raise EOFError
        event = Command(name.lower(), text.strip(), self.actor, self.place)
        replies = await self.bot.handle(event, self._show)
        if name.lower() == "help" and replies:
            # The core lists the shared commands; the console adds its own.
            first = replies[0]
            replies[0] = dataclasses.replace(first, blocks=(*first.blocks, *help_blocks()))
        for reply in replies:
            await self._show(reply)

    async def _press(self, arg: str) -> None:
        # Only ASCII digits make a number: "²".isdigit() is True but int("²") fails.
        if not (arg.isascii() and arg.isdigit()):
            what = f"No such button: `{arg[:40]}` is not a number." if arg else "Which button?"
            self._print(f"{what} Buttons show their number, e.g. `/press 1`.\n")
            return
        # int() refuses more than 4,300 digits; no button has a number that long.
        button = self.book.get(int(arg)) if len(arg) <= 12 else None
        if button is None:
            self._print(f"No such button: {arg[:40]}. {self._buttons_hint()}\n")
            return
        event = Action(button.action, button.value, self.actor, self.place)
        for reply in await self.bot.handle(event, self._show):
            await self._show(reply)
            if reply.form is not None:
                await self._submit_form(reply.form)

    def _buttons_hint(self) -> str:
        """Buttons are numbered afresh in each run: another run's numbers (or
        another user's) mean nothing here, so say which ones exist."""
        shown = self.book.shown
        where = "`/queue` shows the open proposals with their ▲ buttons."
        if shown == 0:
            return f"This console run has shown no buttons yet (each run numbers its own); {where}"
        last = "button 1" if shown == 1 else f"buttons 1 to {shown}"
        return f"This run has shown {last} (each run numbers its own); {where}"

    async def _submit_form(self, form: Form) -> None:
        """A form (a modal on Slack/Discord) is filled in with $EDITOR or from
        READGROUP_EDIT_FILE, then submitted like a modal (see bot.form_text)."""
        from adapters.console.form_text import FormUnavailable, fill_form

        try:
            fields = await fill_form(form)
        except FormUnavailable as exc:
            self._print(f"{exc}\n")
            return
        event = Action(form.action, form.value, self.actor, self.place, fields=fields)
        for reply in await self.bot.handle(event, self._show):
            await self._show(reply)

    async def run(self, stream: TextIO) -> None:
        interactive = stream.isatty()
        if interactive:
            self._print(
                f"readgroup console — you are {self.actor.name}"
                f"{' (organizer)' if self.actor.is_admin else ''}. /help lists commands, "
                "Ctrl-D or Ctrl-C quits."
            )
        lines = LineReader(stream, prompt="readgroup> " if interactive else None)
        while True:
            line = await lines.next()
            if line is None:
                break
            try:
                await self.run_line(line)
            except EOFError:
                break


class LineReader:
    """Lines from the terminal or a pipe, one per request, read on a daemon
    thread of its own. Not the event loop's default executor: at Ctrl-C that
    executor is waited for, and a thread blocked in ``input()`` or on an open
    pipe would keep the console from quitting until the next Enter, or ever."""

    def __init__(self, stream: TextIO, *, prompt: str | None) -> None:
        self.stream = stream
        self.prompt = prompt
        self._asks: queue.SimpleQueue[tuple[asyncio.AbstractEventLoop, asyncio.Future[str | None]]]
        self._asks = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    async def next(self) -> str | None:
        """The next line, or None at the end of input (Ctrl-D)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, name="console-input", daemon=True)
            self._thread.start()
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[str | None] = loop.create_future()
        self._asks.put((loop, answer))
        return await answer

    def _read(self) -> str | None:
        if self.prompt is not None:
            try:
                return input(self.prompt)
            except EOFError:
                return None
        return self.stream.readline() or None

    def _serve(self) -> None:
        while True:
            loop, answer = self._asks.get()
            try:
                line = self._read()
            except Exception as exc:  # a closed or unreadable stream ends the input
                log.debug("console input ended: %s", exc)
                line = None
            try:
                loop.call_soon_threadsafe(_resolve, answer, line)
            except RuntimeError:  # the loop is closed: the console has quit
                return
            if line is None:
                return


def _resolve(answer: asyncio.Future[str | None], line: str | None) -> None:
    if not answer.done():
        answer.set_result(line)


async def run_console(
    bot_factory,
    *,
    user: str | None,
    organizer: bool,
    stream: TextIO = sys.stdin,
    out: TextIO = sys.stdout,
    drain_seconds: float = 10.0,
) -> int:
    name = user or _default_user()
    messenger = ConsoleMessenger(out, ButtonBook(), user=name)
    bot: Bot = bot_factory(messenger)
    console = Console(bot, user=name, organizer=organizer, out=out)
    messenger.book = console.book  # one numbering for replies and unprompted posts
    bot.start()
    try:
        await console.run(stream)
        await _finish_pending(bot, drain_seconds)
    finally:
        await bot.aclose()
    return 0


async def _finish_pending(bot: Bot, seconds: float) -> None:
    """At the end of piped input, give due work (papers waiting for arXiv, cards
    to post) a bounded moment to finish; what doesn't finish stays in the
    database for the next run."""
    try:
        await asyncio.wait_for(retry_waiting_papers(bot), seconds)
    except TimeoutError:
        log.warning("arXiv is still not answering; pending papers will be retried next time")
    await bot.drain(seconds)
    runner = bot.schedule_runner
    if runner is not None:
        try:
            await asyncio.wait_for(asyncio.shield(runner.finish()), seconds)
        except TimeoutError:
            log.warning("the reminder run is still going; it will be finished next time")


def _default_user() -> str:
    try:
        return getpass.getuser() or "you"
    except Exception:
        return "you"
