"""Direct messages in the console: the bot's DMs to the person running it look
as before; a DM to someone else (bob's run showing alice's presenter nudge)
is labelled as theirs, and its buttons can't be pressed as the wrong person."""

from __future__ import annotations

import io

from adapters.console.app import ConsoleMessenger
from adapters.console.render import ButtonBook
from bot.chat.replies import Button, Buttons, Reply, Text
from tests.adapters.console.test_console_cli import console
from tests.fakes.arxiv_server import FakeArxiv

NUDGE = Reply(
    blocks=(
        Text("You're presenting on Thu."),
        Buttons((Button("Present #1", "present_pick", "1"),)),
    )
)


async def test_a_dm_to_someone_else_is_labelled_as_theirs() -> None:
    out = io.StringIO()
    messenger = ConsoleMessenger(out, ButtonBook(), user="bob")
    await messenger.direct("console", "local", "alice", NUDGE)
    shown = out.getvalue()
    assert shown.startswith("── direct message to @alice, not to you ──\n")
    assert "This is for @alice, not you (@bob)" in shown
    assert "--user alice" in shown
    assert "[Present #1]" in shown and "/press" not in shown


async def test_a_dm_to_the_current_user_keeps_its_look() -> None:
    out = io.StringIO()
    messenger = ConsoleMessenger(out, ButtonBook(), user="alice")
    await messenger.direct("console", "local", "alice", NUDGE)
    shown = out.getvalue()
    assert shown.startswith("── direct message to alice ──\n")
    assert "not to you" not in shown
    assert "[Present #1 → /press 1]" in shown


def test_bobs_console_shows_alices_presenter_message_as_hers(
    database_url: str, fake_arxiv: FakeArxiv
) -> None:
    script = (
        "/readgroup config nudge 14d\n"  # the first session is always within the nudge
        '/readgroup config meeting "Thu 16:00 Europe/Berlin"\n'
        "/rotation add @alice @bob\n"  # alice presents the first session
    )
    out = console(database_url, fake_arxiv.url, script, "--user", "bob")
    assert out.returncode == 0, out.stderr
    assert "── direct message to @alice, not to you ──" in out.stdout
    assert "This is for @alice, not you (@bob)" in out.stdout
    assert "── direct message to alice ──" not in out.stdout
