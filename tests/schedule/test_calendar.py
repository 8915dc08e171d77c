"""The .ics export: one event per session, stable UIDs, local times with
TZID, presenter and paper in the summary, the arXiv link in the description."""

from __future__ import annotations

from datetime import timedelta

import pytest
from icalendar import Calendar
from sqlmodel import select

from bot.app import Bot
from bot.schedule.calendar import export_ics
from storage.groups.tables import Group, Member
from tests.schedule.conftest import cmd, org, seed_paper


async def test_calendar_has_one_event_per_session_with_presenter_and_paper(sbot: Bot) -> None:
    await org(sbot, '/readgroup config meeting "Thu 16:00 Europe/Berlin"')
    await org(sbot, "/rotation add @alice @bob")

    def seed(*, session):  # type: ignore[no-untyped-def]
        group = session.exec(select(Group)).one()
        alice = session.exec(select(Member).where(Member.user_id == "alice")).one()
        seed_paper(
            session=session,
            group=group,
            member=alice,
            arxiv_id="1706.03762",
            title="Attention Is All You Need",
            now=sbot.clock.now(),
        )

    await sbot.db(seed)
    await cmd(sbot, "/present 1706.03762", user="alice")
    await org(sbot, "/readgroup skip 2026-01-15")
    ics = await sbot.db(export_ics)
    cal = Calendar.from_ical(ics)
    events = list(cal.walk("VEVENT"))
    assert len(events) == 8
    first = events[0]
    assert first["DTSTART"].params["TZID"] == "Europe/Berlin"
    start = first.decoded("DTSTART")
    assert (start.hour, start.minute, str(start.tzinfo)) == (16, 0, "Europe/Berlin")
    assert first.decoded("DTEND") - start == timedelta(hours=1)
    assert str(first["SUMMARY"]).endswith("Alice presents Attention Is All You Need")
    assert "https://arxiv.org/abs/1706.03762" in str(first["DESCRIPTION"])
    assert str(events[1]["STATUS"]) == "CANCELLED"  # the skipped 15 January
    assert any(c.name == "VTIMEZONE" for c in cal.walk())
    # The same sessions keep the same UIDs when exported again after changes.
    await org(sbot, "/rotation swap @alice @bob")
    again = list(Calendar.from_ical(await sbot.db(export_ics)).walk("VEVENT"))
    assert [str(e["UID"]) for e in again] == [str(e["UID"]) for e in events]
    # Alice's paper went with her to her new date.
    assert str(again[0]["SUMMARY"]).endswith("bob presents paper to be chosen")
    assert str(again[2]["SUMMARY"]).endswith("Alice presents Attention Is All You Need")


async def test_export_without_a_meeting_says_how_to_set_one(sbot: Bot) -> None:
    with pytest.raises(LookupError, match="readgroup config meeting"):
        await sbot.db(export_ics)
