"""Friendly dates (bot.chat.dates) and counted nouns (bot.chat.plural)."""

from __future__ import annotations

from datetime import date

import pytest

from bot.chat.dates import DateError, parse_day, parse_period
from bot.chat.plural import plural


def test_friendly_words_read_in_the_given_today() -> None:
    today = date(2026, 11, 18)  # a Wednesday
    ex = "`/x 2026-11-19`"
    assert parse_day("today", today=today, examples=ex) == today
    assert parse_day("yesterday", today=today, examples=ex) == date(2026, 11, 17)
    assert parse_day("tomorrow", today=today, examples=ex) == date(2026, 11, 19)
    assert parse_day("thu", today=today, examples=ex) == date(2026, 11, 19)
    assert parse_day("Thursday", today=today, examples=ex) == date(2026, 11, 19)
    assert parse_day("next thursday", today=today, examples=ex) == date(2026, 11, 19)
    assert parse_day("next wed", today=today, examples=ex) == date(2026, 11, 25)
    assert parse_day("wednesday", today=today, examples=ex) == today
    assert parse_day("last thursday", today=today, examples=ex) == date(2026, 11, 12)
    past = {"examples": ex, "direction": "past"}
    assert parse_day("thursday", today=today, **past) == date(2026, 11, 12)  # type: ignore[arg-type]
    assert parse_day("wed", today=today, **past) == today  # type: ignore[arg-type]
    assert parse_period("last week", today=today, examples=ex) == (
        date(2026, 11, 9),
        date(2026, 11, 15),
    )
    friday = date(2026, 11, 20)
    assert parse_period("next thursday to friday", today=friday, examples=ex) == (
        date(2026, 11, 26),
        date(2026, 11, 27),
    )
    assert parse_period("from tomorrow until tue", today=today, examples=ex) == (
        date(2026, 11, 19),
        date(2026, 11, 24),
    )
    with pytest.raises(DateError, match=r"can't read `someday`.*`/x 2026-11-19`"):
        parse_day("someday", today=today, examples=ex)
    with pytest.raises(DateError, match="one date"):
        parse_day("next week", today=today, examples=ex)


def test_plural_helper() -> None:
    assert plural(1, "day") == "1 day"
    assert plural(3, "day") == "3 days"
    assert plural(0, "vote") == "0 votes"
    assert plural(2, "person", "people") == "2 people"
