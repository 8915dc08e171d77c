"""Tense and truth (issue 14, item 1): a session counts as held, its paper as
read, only once it has ended. Before that it is "Coming up", with its
presenter, and no post says it was read or that the group met."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from bot.app import Bot
from bot.chat.events import Actor, Command
from bot.chat.replies import Reply, to_plain
from bot.digest.exports import export_quarter, export_week
from bot.digest.periods import Quarter
from tests.digest.quarter_seed import load_quarter, quarter_data

TUESDAY = datetime(2026, 9, 22, 9, 0, tzinfo=UTC)  # the week of the last session (Thu 24 Sep)
OPENCAT = "OpenCat"


def _organizer() -> Actor:
    lena = next(m for m in quarter_data()["members"] if m["key"] == "lena")
    return Actor("slack", lena["user_id"], lena["display_name"], workspace="T0FNDRY01")


def _says_read(text: str) -> list[str]:
    """Sentences or lines that name OpenCat and say it was read or met about."""
    pieces = re.split(r"(?<=[.!?])\s+|\n", text)
    return [p for p in pieces if OPENCAT in p and re.search(r"\b(read|met|held)\b", p, re.I)]


async def test_export_digest_on_tuesday_does_not_say_thursdays_paper_was_read(bot: Bot) -> None:
    load_quarter(bot, now=TUESDAY)
    md = await export_week(bot, week=None)
    assert OPENCAT in md and "Coming up" in md and "Aiko" in md
    assert "Thu 24 Sep" in md
    assert not _says_read(md), _says_read(md)
    assert not re.search(r"\bwe read\b|\bthe group read\b|\bmet\b", md, re.I), md
    assert "tl;dr" not in md.lower() and "takeaway" not in md.lower()


async def test_slash_digest_on_tuesday_does_not_say_thursdays_paper_was_read(bot: Bot) -> None:
    load_quarter(bot, now=TUESDAY)
    out: list[Reply] = []

    async def keep(reply: Reply) -> None:
        out.append(reply)

    replies = await bot.handle(Command("digest", "", _organizer(), bot_place(bot)), keep)
    text = "\n".join(to_plain(r) for r in [*replies, *out])
    assert OPENCAT in text and "Coming up" in text, text
    assert not _says_read(text), _says_read(text)
    assert not re.search(r"\bwe read\b|\bthe group read\b", text, re.I), text


def bot_place(bot: Bot):  # type: ignore[no-untyped-def]
    from bot.chat.events import Place

    g = quarter_data()["group"]
    return Place("slack", g["workspace_id"], g["channel_id"])


async def test_export_quarter_counts_only_held_sessions(bot: Bot) -> None:
    load_quarter(bot, now=TUESDAY)
    md = await export_quarter(bot, quarter=Quarter.parse("2026-Q3"))
    # s01–s12 minus the two cancelled ones: 10 held; s13 is still to come
    assert re.search(r"\b10 sessions\b|\bmet 10 times\b", md), md[:600]
    assert re.search(r"\b10 papers\b", md), md[:600]
    assert "11" not in md.split("\n\n")[1]
    coming = md[md.index("Coming up") :]
    assert OPENCAT in coming and OPENCAT not in md[: md.index("Coming up")]
    assert not _says_read(md)
