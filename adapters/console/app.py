"""`readgroup console`: the bot in the terminal, no credentials needed.

Interactive on a terminal; with piped input it runs one command per line and
exits 0 at the end of input (after giving pending work a moment to finish).
"""

from __future__ import annotations

import asyncio
import getpass
import logging
import sys
from typing import TextIO

from adapters.console.render import ButtonBook, render
from bot.app import Bot
from bot.events import Action, Actor, Command, Place
from bot.replies import Form, Reply

PLATFORM = "console"
WORKSPACE = "local"
CHANNEL = "general"
log = logging.getLogger(__name__)


class ConsoleMessenger:
    """Messages the bot sends on its own (late cards, reminders) go to the screen."""

    def __init__(self, out: TextIO, book: ButtonBook) -> None:
        self.out = out
        self.book = book
        self._n = 0

    def _print(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    async def post(self, place: Place, reply: Reply) -> str | None:
        self._n += 1
        where = f"#{place.channel}" + (f" thread {place.thread}" if place.thread else "")
        self._print(render(reply, self.book, where=where))
        return f"m{self._n}"

    async def direct(self, platform: str, workspace: str, user_id: str, reply: Reply) -> str | None:
        self._n += 1
        self._print(render(reply, self.book, where=f"direct message to {user_id}"))
        return f"m{self._n}"

    async def open_thread(self, place: Place, message_id: str, name: str) -> str | None:
        return message_id


class Console:
    def __init__(self, bot: Bot, *, user: str, organizer: bool, out: TextIO) -> None:
        self.bot = bot
        self.out = out
        self.book = ButtonBook()
        self.actor = Actor(PLATFORM, user, user, is_admin=organizer)
        self.place = Place(PLATFORM, WORKSPACE, CHANNEL)

    def _print(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    async def _show(self, reply: Reply) -> None:
        self._print(render(reply, self.book))
        self._print("")

    async def run_line(self, line: str) -> None:
        line = line.strip()
        if not line or line.startswith("#"):
            return
        if not line.startswith("/"):
            self._print("Commands start with a slash, e.g. /queue. Type /help to see them all.\n")
            return
        name, _, text = line[1:].partition(" ")
        if name == "press":
            await self._press(text.strip())
            return
        if name in {"quit", "exit"}:
            raise EOFError
        event = Command(name.lower(), text.strip(), self.actor, self.place)
        for reply in await self.bot.handle(event, self._show):
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
            self._print(f"No such button: {arg[:40]}. Buttons show their number as `/press N`.\n")
            return
        event = Action(button.action, button.value, self.actor, self.place)
        for reply in await self.bot.handle(event, self._show):
            await self._show(reply)
            if reply.form is not None:
                await self._submit_form(reply.form)

    async def _submit_form(self, form: Form) -> None:
        """A form (a modal on Slack/Discord) is filled in with $EDITOR or from
        READGROUP_EDIT_FILE, then submitted like a modal (see bot.form_text)."""
        from bot.form_text import FormUnavailable, fill_form

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
                "Ctrl-D quits."
            )
        while True:
            try:
                if interactive:
                    line = await asyncio.to_thread(input, "readgroup> ")
                else:
                    line = await asyncio.to_thread(stream.readline)
                    if not line:
                        break
                await self.run_line(line)
            except EOFError:
                break
            except KeyboardInterrupt:
                break


async def run_console(
    bot_factory,
    *,
    user: str | None,
    organizer: bool,
    stream: TextIO = sys.stdin,  # type: ignore[no-untyped-def]
    out: TextIO = sys.stdout,
    drain_seconds: float = 10.0,
) -> int:
    name = user or _default_user()
    messenger = ConsoleMessenger(out, ButtonBook())
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
    from bot.paper_fetch import retry_once

    try:
        await asyncio.wait_for(retry_once(bot), seconds)
    except TimeoutError:
        log.warning("arXiv is still not answering; pending papers will be retried next time")
    await bot.drain(seconds)


def _default_user() -> str:
    try:
        return getpass.getuser() or "you"
    except Exception:
        return "you"
