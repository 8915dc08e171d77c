"""The group's name and about (`/readgroup config name|about`): stored,
shown in /readgroup, and opening the quarterly digest."""

from __future__ import annotations

from bot.app import Bot
from bot.chat.events import Actor, Command, Place
from bot.chat.replies import Reply, to_plain
from bot.digest.exports import export_quarter
from bot.digest.periods import Quarter
from storage.groups.tables import Group
from tests.digest.quarter_seed import load_quarter, quarter_data

G = quarter_data()["group"]
PLACE = Place("slack", G["workspace_id"], G["channel_id"])
LENA = Actor("slack", "U0LENA001", "Lena", workspace=G["workspace_id"])
SAM = Actor("slack", "U0SAM0006", "Sam", workspace=G["workspace_id"])


async def _say(bot: Bot, text: str, actor: Actor = LENA) -> str:
    async def keep(reply: Reply) -> None:
        return None

    replies = await bot.handle(Command("readgroup", text, actor, PLACE), keep)
    return "\n".join(to_plain(r) for r in replies)


async def test_an_organizer_names_and_describes_the_group(bot: Bot) -> None:
    q = load_quarter(bot)

    def clear(*, session):  # type: ignore[no-untyped-def]
        group = session.get(Group, q.group_id)
        group.name, group.about = "", ""
        session.add(group)

    bot.db_sync(clear)
    shown = await _say(bot, "config")
    assert "Name" in shown and "About" in shown and "not set" in shown
    said = await _say(bot, 'config name "Foundry ML"')
    assert "Foundry ML" in said
    said = await _say(bot, "config about Engineers who read one paper a week on testing ML.")
    assert "Engineers who read one paper a week on testing ML." in said
    refused = await _say(bot, "config name Hijacked", actor=SAM)
    assert "Only organizers" in refused
    shown = await _say(bot, "config")
    assert "Foundry ML" in shown and "Hijacked" not in shown
    md = await export_quarter(bot, quarter=Quarter.parse("2026-Q3"))
    assert md.startswith("# Foundry ML – Q3 2026 digest\n")
    assert "\nEngineers who read one paper a week on testing ML.\n" in md
    assert "_1 October 2026_" in md  # the date line
    too_long = await _say(bot, "config about " + "x" * 500)
    assert "at most 400" in too_long
