"""Periods a post covers: an ISO week, a calendar month or a quarter, each cut
at midnight in the group's time zone (DST-safe), and parsing what a user typed."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from bot.infra.clock import as_utc


class PeriodError(ValueError):
    """A week or quarter the user typed is not one we understand."""


_WEEK = re.compile(r"^\s*(\d{4})-?W(\d{1,2})\s*$", re.IGNORECASE)
_QUARTER = re.compile(r"^\s*(\d{4})-?Q([1-4])\s*$", re.IGNORECASE)


def _month_start(year: int, month: int, tz: tzinfo) -> datetime:
    """The UTC instant the local month begins; month 13 is next January
    (DST-safe: the offset is the one of that day)."""
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return datetime.combine(date(year, month, 1), time(0), tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True)
class Week:
    """An ISO week, Monday 00:00 to Monday 00:00 in the group's time zone."""

    year: int
    number: int
    tz: tzinfo = field(default=UTC, compare=False)

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.monday, time(0), tzinfo=self.tz).astimezone(UTC)

    @property
    def end(self) -> datetime:
        sunday = self.monday + timedelta(days=7)
        return datetime.combine(sunday, time(0), tzinfo=self.tz).astimezone(UTC)

    @property
    def date_label(self) -> str:
        """``16–22 November 2026`` (or across months: ``30 November – 6 December 2026``)."""
        a, b = self.monday, self.monday + timedelta(days=6)
        if a.month == b.month:
            return f"{a.day}–{b.day} {b:%B %Y}"
        if a.year == b.year:
            return f"{a.day} {a:%B} – {b.day} {b:%B %Y}"
        return f"{a.day} {a:%B %Y} – {b.day} {b:%B %Y}"

    def previous(self) -> Week:
        return Week.containing(self.start - timedelta(days=7), self.tz)

    @classmethod
    def containing(cls, when: datetime, tz: tzinfo = UTC) -> Week:
        iso = as_utc(when).astimezone(tz).isocalendar()
        return cls(iso.year, iso.week, tz)

    @classmethod
    def parse(cls, text: str | None, *, now: datetime, tz: tzinfo = UTC) -> Week:
        """A typed ISO week; empty: the week that contains ``now`` in ``tz``."""
        if not text or not text.strip():
            return cls.containing(now, tz)
        m = _WEEK.match(text)
        if not m:
            raise PeriodError(
                f"“{text.strip()[:40]}” is not an ISO week. Write it like "
                f"{cls.containing(now, tz).label} (year, W, week number), or leave it out "
                "for the current week."
            )
        year, number = int(m.group(1)), int(m.group(2))
        try:
            date.fromisocalendar(year, number, 1)
        except ValueError:
            raise PeriodError(
                f"{year} has no week {number}: ISO weeks run from W01 to W52 (W53 in some years)."
            ) from None
        return cls(year, number, tz)


@dataclass(frozen=True)
class Quarter:
    """A calendar quarter, from the first of its first month in the group's time zone."""

    year: int
    number: int
    tz: tzinfo = field(default=UTC, compare=False)

    @property
    def label(self) -> str:
        return f"Q{self.number} {self.year}"

    @property
    def label_iso(self) -> str:
        """As it is typed: ``2026-Q4``."""
        return f"{self.year}-Q{self.number}"

    @property
    def start(self) -> datetime:
        return _month_start(self.year, 3 * self.number - 2, self.tz)

    @property
    def end(self) -> datetime:
        return _month_start(self.year, 3 * self.number + 1, self.tz)

    @classmethod
    def containing(cls, when: datetime, tz: tzinfo = UTC) -> Quarter:
        local = as_utc(when).astimezone(tz)
        return cls(local.year, (local.month - 1) // 3 + 1, tz)

    @classmethod
    def parse(cls, text: str | None, tz: tzinfo = UTC, *, now: datetime | None = None) -> Quarter:
        """``2026-Q4``; empty with ``now`` given: the quarter that contains ``now`` in ``tz``."""
        if now is not None and (not text or not text.strip()):
            return cls.containing(now, tz)
        m = _QUARTER.match(text or "")
        if not m:
            example = cls.containing(now, tz).label_iso if now is not None else "2026-Q4"
            hint = ", or leave it out for this quarter" if now is not None else ""
            raise PeriodError(
                f"“{(text or '').strip()[:40]}” is not a quarter. Write it like {example}{hint}."
            )
        return cls(int(m.group(1)), int(m.group(2)), tz)


_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")


@dataclass(frozen=True)
class Month:
    """A calendar month, from midnight on the first in the group's time zone."""

    year: int
    number: int
    tz: tzinfo = field(default=UTC, compare=False)

    @property
    def label(self) -> str:
        return f"{date(self.year, self.number, 1):%B %Y}"

    @property
    def start(self) -> datetime:
        return _month_start(self.year, self.number, self.tz)

    @property
    def end(self) -> datetime:
        return _month_start(self.year, self.number + 1, self.tz)

    @classmethod
    def containing(cls, when: datetime, tz: tzinfo = UTC) -> Month:
        local = as_utc(when).astimezone(tz)
        return cls(local.year, local.month, tz)

    @classmethod
    def parse(cls, text: str | None, *, now: datetime, tz: tzinfo = UTC) -> Month:
        """``2026-11``; empty: the month that contains ``now`` in ``tz``."""
        if not text or not text.strip():
            return cls.containing(now, tz)
        m = _MONTH.match(text)
        if not m or not 1 <= int(m.group(2)) <= 12:
            raise PeriodError(
                f"“{text.strip()[:40]}” is not a month. Write it like "
                f"{now:%Y-%m} (year, dash, month), or leave it out for this month."
            )
        return cls(int(m.group(1)), int(m.group(2)), tz)
