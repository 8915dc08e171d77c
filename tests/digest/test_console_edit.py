"""Edit in the console: the form is filled from READGROUP_EDIT_FILE or with
$EDITOR on a temporary file, then saved as a new revision."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlmodel import select

from adapters.console.app import Console
from adapters.console.form_text import from_text, to_text
from bot.app import Bot
from bot.chat.replies import Form, FormField
from bot.infra.clock import ManualClock
from bot.schedule.week_sessions import SessionInfo
from storage.digest.tables import DigestRevision
from tests.digest.conftest import WEEK, at, seed

FORM = Form(
    "Edit",
    "digest_edit_save",
    "1",
    (
        FormField("title", "Title", "Old title"),
        FormField("body1", "Post, part 1 of 2", "part one", multiline=True),
        FormField("body2", "Post, part 2 of 2", "part two", multiline=True),
    ),
)


def test_a_form_round_trips_through_its_text_file() -> None:
    assert from_text(FORM, to_text(FORM)) == (
        ("title", "Old title"),
        ("body1", "part one"),
        ("body2", "part two"),
    )
    edited = to_text(FORM).replace("part two", "part two, edited")
    assert dict(from_text(FORM, edited))["body2"] == "part two, edited"


def test_a_plain_file_replaces_the_whole_body_without_duplicating_parts() -> None:
    assert from_text(FORM, "A whole new post.\n") == (
        ("title", "Old title"),
        ("body1", "A whole new post."),
        ("body2", ""),
    )


def _revisions(bot: Bot) -> list[DigestRevision]:
    return bot.db_sync(
        lambda *, session: list(session.exec(select(DigestRevision).order_by(DigestRevision.id)))
    )


async def _console_edit(bot: Bot, sessions_patch: list[SessionInfo]) -> str:
    bot.clock = ManualClock(at(WEEK))
    sessions_patch.extend(seed(bot, sessions=1).sessions)
    out = io.StringIO()
    console = Console(bot, user="alice", organizer=True, out=out)
    await console.run_line("/digest")
    await console.run_line("/press 2")  # the draft's buttons: 1 Approve, 2 Edit, ...
    return out.getvalue()


async def test_edit_in_the_console_reads_readgroup_edit_file(
    bot: Bot, sessions_patch: list[SessionInfo], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    post = tmp_path / "post.md"
    post.write_text("Our own words about this week.\n", encoding="utf-8")
    monkeypatch.setenv("READGROUP_EDIT_FILE", str(post))
    shown = await _console_edit(bot, sessions_patch)
    assert "Saved your edit as revision 2" in shown
    assert [r.body for r in _revisions(bot)][1] == "Our own words about this week."


async def test_edit_in_the_console_opens_the_editor_on_the_current_text(
    bot: Bot, sessions_patch: list[SessionInfo], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("READGROUP_EDIT_FILE", raising=False)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", "sed -i s/Thanks.to/Bye.for.now/")
    shown = await _console_edit(bot, sessions_patch)
    assert "Saved your edit as revision 2" in shown
    first, second = _revisions(bot)
    assert "Thanks to" in first.body and "Bye.for.now" in second.body
    assert second.title == first.title


async def test_without_an_editor_the_console_says_how_to_set_one(
    bot: Bot, sessions_patch: list[SessionInfo], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("READGROUP_EDIT_FILE", "VISUAL", "EDITOR"):
        monkeypatch.delenv(name, raising=False)
    shown = await _console_edit(bot, sessions_patch)
    assert "set $EDITOR" in shown and len(_revisions(bot)) == 1
