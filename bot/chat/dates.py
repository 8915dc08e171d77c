"""Dates as people type them: ISO dates and a few friendly words.

``today``, ``yesterday``, ``tomorrow``, a weekday (``thu``, ``Thursday``),
``next thursday``, ``last thursday``, ``this week``, ``next week``,
``last week``. The caller gives ``today`` in the group's time zone (from the
bot's injectable clock), so "tomorrow" flips at the group's midnight, not the
server's. A bare weekday means the coming one for commands about the future
(``/away``, ``/readgroup skip``) and the latest one for commands about the past
(``/takeaways``); today counts either way.

Errors are :class:`DateError` whose message is neutral markup (what the user
typed is escaped) ending in the calling command's own examples.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from bot.chat.markup import esc

Direction = Literal["future", "past"]

WEEKDAYS = {
    "mon": 0,
    "monday": 0,
    "tue": 1,
    "tues": 1,
    "tuesday": 1,
    "wed": 2,
    "wednesday": 2,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "thursday": 3,
    "fri": 4,
    "friday": 4,
    "sat": 5,
    "saturday": 5,
    "sun": 6,
    "sunday": 6,
}
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
#: Words between the two ends of a period, ignored.
_FILLER = {"to", "until", "till", "-", "from", "on"}
WORDS_HINT = "an ISO date (YYYY-MM-DD), or today, tomorrow, yesterday, a weekday or next thursday"


class DateError(ValueError):
    """A date that can't be read; the message (markup) says how to write one."""


def _expr(
    tokens: list[str], i: int, today: date, direction: Direction, start: date | None = None
) -> tuple[date, date, int]:
    """The date expression at ``tokens[i]``: (first day, last day, tokens used).
    ``start``: the period's first day, when this is its end (``next thursday
    to friday`` ends on the Friday after that Thursday)."""
    word = tokens[i]
    nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
    monday = today - timedelta(days=today.weekday())
    if word == "this" and nxt == "week":
        return today, monday + timedelta(days=6), 2
    if word in {"next", "last"} and nxt == "week":
        begin = monday + timedelta(days=7 if word == "next" else -7)
        return begin, begin + timedelta(days=6), 2
    if word in {"next", "last", "this", "coming"} and WEEKDAYS.get(nxt) is not None:
        wd = WEEKDAYS.get(nxt)
        assert wd is not None
        if word in {"next", "coming"}:  # strictly after today
            day = today + timedelta(days=(wd - today.weekday() - 1) % 7 + 1)
        elif word == "last":  # strictly before today
            day = today - timedelta(days=(today.weekday() - wd - 1) % 7 + 1)
        else:
            day = _bare_weekday(wd, today, direction)
        return day, day, 2
    if word == "today":
        return today, today, 1
    if word == "tomorrow":
        return today + timedelta(days=1), today + timedelta(days=1), 1
    if word == "yesterday":
        return today - timedelta(days=1), today - timedelta(days=1), 1
    wd = WEEKDAYS.get(word)
    if wd is not None:
        day = _bare_weekday(wd, max(today, start or today), direction)
        return day, day, 1
    try:
        day = date.fromisoformat(word)
    except ValueError:
        raise _Unreadable(word) from None
    return day, day, 1


def _bare_weekday(wd: int, today: date, direction: Direction) -> date:
    if direction == "past":
        return today - timedelta(days=(today.weekday() - wd) % 7)
    return today + timedelta(days=(wd - today.weekday()) % 7)


class _Unreadable(DateError):
    """One token that is no date (reworded with the examples by the caller)."""

    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.token = token


def _tokens(text: str) -> list[str]:
    words = text.replace("–", " ").replace("—", " ").lower().split()
    stripped = (w.strip(",.;") for w in words)
    return [w for w in stripped if w and w not in _FILLER]


def parse_period(
    text: str, *, today: date, examples: str, direction: Direction = "future"
) -> tuple[date, date]:
    """``FROM TO`` (ISO dates or words), or one expression alone as its own
    period. ``examples`` is the calling command's own, as markup."""
    tokens = _tokens(text)
    if not tokens:
        raise DateError(f"Which date? For example {examples}.")
    parts: list[tuple[date, date]] = []
    i = 0
    while i < len(tokens):
        try:
            start = parts[0][0] if parts else None
            first, last, used = _expr(tokens, i, today, direction, start)
        except _Unreadable as exc:
            said = f"`{esc(exc.token)}`"
            if len(tokens) > 1:
                said += f" (in `{esc(' '.join(text.split())[:80])}`)"
            raise DateError(
                f"I can't read {said} as a date. Write {WORDS_HINT}, for example {examples}."
            ) from None
        parts.append((first, last))
        i += used
    if len(parts) > 2:
        raise DateError(f"Give at most a first and a last day, for example {examples}.")
    first, last = parts[0][0], parts[-1][1]
    if last < first:
        raise DateError(
            f"The period ends ({last}) before it starts ({first}). Give the first day, "
            f"then the last, for example {examples}."
        )
    return first, last


def parse_day(text: str, *, today: date, examples: str, direction: Direction = "future") -> date:
    """One date (ISO or a word); a period of several days is refused."""
    first, last = parse_period(text, today=today, examples=examples, direction=direction)
    if first != last:
        raise DateError(f"Give one date, not a period ({first} to {last}), for example {examples}.")
    return first
