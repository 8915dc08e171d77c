"""Weeks and quarters are cut at midnight in the group's time zone: a New York
group's Sunday-evening proposal belongs to that Sunday's week, and `/digest`
typed on Sunday evening drafts the week that is ending, not the next one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot.app import Bot
from bot.chat.events import Command
from bot.chat.replies import Reply, to_plain
from bot.digest import periods
from bot.digest.exports import export_week
from bot.infra.clock import ManualClock
from storage.papers.tables import Proposal
from storage.schedule.tables import GroupSettings
from tests.digest.conftest import ORGANIZER, PLACE, WEEK, seed

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
#: Sunday 22 November 2026, 20:30 in New York: already Monday 01:30 in UTC (W48).
SUNDAY_EVENING_NY = datetime(2026, 11, 22, 20, 30, tzinfo=NEW_YORK)


async def _noop(reply: Reply) -> None:
    return None


def test_a_week_starts_at_local_midnight_and_is_shorter_when_the_clocks_go_forward() -> None:
    w47 = periods.Week(2026, 47, BERLIN)
    assert w47.start.isoformat() == "2026-11-15T23:00:00+00:00"
    assert w47.label == WEEK.label and w47 == WEEK  # the zone is not part of the identity
    march = periods.Week(2026, 13, BERLIN)  # 23–29 March; summer time starts on the 29th
    assert march.end - march.start == timedelta(days=7, hours=-1)
    assert periods.Week.containing(SUNDAY_EVENING_NY).label == "2026-W48"  # UTC
    assert periods.Week.containing(SUNDAY_EVENING_NY, NEW_YORK).label == "2026-W47"
    assert periods.Week.parse("", now=SUNDAY_EVENING_NY, tz=NEW_YORK).label == "2026-W47"
    q4 = periods.Quarter.parse("2026-Q4", NEW_YORK)
    assert q4.start.isoformat() == "2026-10-01T04:00:00+00:00"  # EDT
    assert q4.end.isoformat() == "2027-01-01T05:00:00+00:00"  # EST
    december = periods.Month.parse("2026-12", now=SUNDAY_EVENING_NY, tz=NEW_YORK)
    assert december.label == "December 2026" and december.end == q4.end  # across the year
    # 30 November, 21:00 in New York is already December in UTC
    late = datetime(2026, 11, 30, 21, 0, tzinfo=NEW_YORK)
    assert periods.Month.containing(late, NEW_YORK).label == "November 2026"
    assert periods.Month.containing(late).label == "December 2026"


def _new_york_group_with_a_sunday_evening_proposal(bot: Bot) -> str:
    s = seed(bot, sessions=0, also=2)
    late = s.also[1]

    def adjust(*, session):  # type: ignore[no-untyped-def]
        session.add(
            GroupSettings(
                group_id=s.group_id,
                meeting_weekday=3,
                meeting_time="16:00",
                timezone="America/New_York",
                updated_at=WEEK.start,
            )
        )
        p = session.exec(select(Proposal).where(Proposal.paper_id == late.id)).one()
        p.created_at = SUNDAY_EVENING_NY.astimezone(UTC)
        session.add(p)

    bot.db_sync(adjust)
    return late.title


async def test_digest_on_sunday_evening_drafts_the_local_week_with_its_late_proposals(
    bot: Bot,
) -> None:
    title = _new_york_group_with_a_sunday_evening_proposal(bot)
    bot.clock = ManualClock((SUNDAY_EVENING_NY + timedelta(minutes=30)).astimezone(UTC))
    [reply] = await bot.handle(Command("digest", "", ORGANIZER, PLACE), _noop)
    text = to_plain(reply)
    assert "This Week in ML – 16–22 November 2026" in text, text  # W47, not W48
    assert title in text
    # the week after (W48 in New York) does not take the Sunday-evening proposal
    [later] = await bot.handle(Command("digest", "2026-W48", ORGANIZER, PLACE), _noop)
    assert "Nothing to draft for 2026-W48" in to_plain(later)
    assert "/digest 2026-W47" in to_plain(later)


async def test_export_of_this_week_follows_the_group_zone(bot: Bot) -> None:
    title = _new_york_group_with_a_sunday_evening_proposal(bot)
    bot.clock = ManualClock((SUNDAY_EVENING_NY + timedelta(minutes=30)).astimezone(UTC))
    md = await export_week(bot, week=None)
    assert "16–22 November 2026" in md and title in md
