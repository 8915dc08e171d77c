"""The fortnight of :mod:`tests.schedule.simulate_week`, on both databases:
from setting the meeting 19 minutes ahead through the next week's session."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from bot.app import Bot
from tests.schedule.simulate_week import TimedRecorder, simulate


def _at(day: int, hour: int, minute: int) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


async def test_a_simulated_fortnight_sends_each_reminder_once_on_time_and_true(
    sbot: Bot,
) -> None:
    sbot.messenger = TimedRecorder()
    rows = await simulate(sbot)
    # Every delivery at most once, and never two for one audience at one moment.
    assert all(n == 1 for n in Counter(r.key for r in rows).values())
    moments = Counter((r.at, r.key.split(":")[1], r.to.split(",")[0]) for r in rows)
    assert all(n == 1 for n in moments.values()), moments
    assert not any("nobody yet" in r.text for r in rows)
    assert not any("not chosen yet" in r.text and r.kind == "takeaways" for r in rows)
    got = [(r.at, r.kind, r.to, r.first_line) for r in rows]
    assert got[:3] == [
        (_at(1, 18, 6), "deadline", "@alice", got[0][3]),
        (_at(1, 18, 6), "channel", "#general", "Reading group in 19 minutes"),
        (_at(1, 19, 25), "takeaways", "#general", got[2][3]),
    ]
    assert got[0][3].startswith("You present on Tue 1 Dec 2026, 18:25 UTC")
    week2 = got[3:]
    assert [(at, kind, to) for at, kind, to, _ in week2] == [
        (_at(5, 18, 25), "nudge", "@bob"),
        (_at(6, 18, 25), "deadline", "@bob"),  # the queue is empty at the deadline
        (_at(6, 20, 5), "assigned", "@bob"),  # the next pass after the late proposal
        (_at(6, 20, 5), "card", "#general, opens thread t-m7"),  # as a /present would
        (_at(7, 18, 25), "channel", "#general"),
        (_at(8, 17, 25), "channel", "#general"),
        (_at(8, 19, 25), "takeaways", "#general thread t-m7"),
    ]
    texts = {r.kind + r.at.strftime("%d"): r.text for r in rows}
    assert "If nothing is picked 48 h before the session" in texts["nudge05"]
    assert "no paper is chosen yet; the queue is empty" in texts["deadline06"]
    assert "A Paper Proposed After The Deadline" in texts["assigned06"]
    assert week2[4][3] == "Reading group tomorrow" and week2[5][3] == "Reading group in 1 hour"
    assert "Presenter: @bob" in texts["channel07"]
    assert "A Paper Proposed After The Deadline" in texts["card06"]
    assert "@bob presents this on" in texts["card06"]
    assert "The discussion is in the paper's thread." in texts["channel07"]
    assert "A Paper Proposed After The Deadline" in texts["takeaways08"]
