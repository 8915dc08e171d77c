"""The meeting rule and dates as users type them (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.schedule.meetings import (
    ScheduleError,
    occurrences,
    parse_duration,
    parse_meeting,
    parse_period,
)


def test_meeting_rule_reads_weekday_time_and_zone() -> None:
    rule = parse_meeting('"Thu 16:00 Europe/Berlin"')
    assert (rule.weekday, rule.at, rule.tz.key) == (3, time(16, 0), "Europe/Berlin")
    assert parse_meeting("friday 4pm America/New_York").at == time(16, 0)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("Thu 16:00", "weekday, a time and a time zone"),
        ("Ths 16:00 Europe/Berlin", "not a weekday"),
        ("Thu 25:00 Europe/Berlin", "not a time of day"),
        ("Thu 16:00 Europe/Berlinn", "not a time zone"),
    ],
)
def test_bad_meeting_rules_say_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(ScheduleError, match=says):
        parse_meeting(text)


@pytest.mark.parametrize(
    ("tz", "day", "utc_hour"),
    [
        ("Europe/Berlin", date(2026, 3, 26), 15),  # CET, before the March change
        ("Europe/Berlin", date(2026, 4, 2), 14),  # CEST
        ("Europe/Berlin", date(2026, 10, 22), 14),  # CEST, before the October change
        ("Europe/Berlin", date(2026, 10, 29), 15),  # CET
        ("America/New_York", date(2026, 3, 5), 21),  # EST
        ("America/New_York", date(2026, 3, 12), 20),  # EDT
        ("America/New_York", date(2026, 10, 29), 20),  # EDT
        ("America/New_York", date(2026, 11, 5), 21),  # EST
    ],
)
def test_each_occurrence_is_computed_in_local_time(tz: str, day: date, utc_hour: int) -> None:
    rule = parse_meeting(f"Thu 16:00 {tz}")
    found = occurrences(rule, datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    assert len(found) == 53  # every Thursday of 2026
    match = [w for w in found if w.date() == day]
    assert match and match[0].hour == utc_hour
    assert all(w.astimezone(ZoneInfo(tz)).time() == time(16, 0) for w in found)


def test_periods_in_iso_dates_and_words() -> None:
    today = date(2026, 11, 18)  # a Wednesday
    assert parse_period("2026-12-01 2026-12-14", today=today) == (
        date(2026, 12, 1),
        date(2026, 12, 14),
    )
    assert parse_period("next week", today=today) == (date(2026, 11, 23), date(2026, 11, 29))
    assert parse_period("tomorrow", today=today) == (date(2026, 11, 19),) * 2
    assert parse_period("tomorrow to next week", today=today) == (
        date(2026, 11, 19),
        date(2026, 11, 29),
    )
    with pytest.raises(ScheduleError, match="ends"):
        parse_period("2026-12-14 2026-12-01", today=today)
    with pytest.raises(ScheduleError, match="can't read `someday`"):
        parse_period("someday", today=today)


def test_durations() -> None:
    assert parse_duration("24h") == 24 * 60
    assert parse_duration("3", unit="d") == 3 * 24 * 60
    with pytest.raises(ScheduleError, match="not a duration"):
        parse_duration("soon")
