"""A simulated fortnight of reminders on the injectable clock.

The meeting is set 19 minutes before it starts (Tue 1 Dec 2026 18:06 UTC for
"Tue 18:25 UTC"); that session runs, then the next week's one goes through
the presenter nudge, the pick deadline with an empty queue, a proposal that
arrives after the deadline (assigned on the next pass), the day-before and
hour-before reminders, the paper's thread, and the takeaways prompt.

``tests/schedule/test_simulated_week.py`` asserts on it; run it to see the
messages as a table::

    python -m tests.schedule.simulate_week
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import select

from bot.app import Bot, build_bot
from bot.chat.events import Place
from bot.chat.replies import Reply, to_plain
from bot.infra.arxiv_client import ArxivClient
from bot.infra.clock import ManualClock
from bot.infra.settings import Settings
from bot.schedule.reminders import next_wakeup, run_due
from storage.groups.tables import Group, Member
from tests.schedule.conftest import Recorder, cmd, org, seed_paper

SET_AT = datetime(2026, 12, 1, 18, 6, tzinfo=UTC)
MEETING = "Tue 18:25 UTC"
#: The second session, and when a proposal turns up (after its pick deadline).
SECOND = datetime(2026, 12, 8, 18, 25, tzinfo=UTC)
PROPOSED_AT = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)
#: The scheduler's safety tick: the pass after a change nobody announced.
SAFETY_TICK = timedelta(minutes=5)
END = SECOND + timedelta(hours=3)


@dataclass(frozen=True)
class Row:
    at: datetime
    kind: str
    key: str
    to: str  # "#channel", "#channel thread t-…", "@user"; notes a thread it opened
    first_line: str
    text: str


@dataclass
class TimedRecorder(Recorder):
    """The schedule tests' Recorder, also keeping every message in order."""

    log: list[tuple[str, Reply]] = field(default_factory=list)

    async def post(self, place: Place, reply: Reply) -> str | None:
        mid = await super().post(place, reply)
        where = f"#{place.channel}" + (f" thread {place.thread}" if place.thread else "")
        self.log.append((where, reply))
        return mid

    async def direct(self, platform: str, workspace: str, user_id: str, reply: Reply) -> str | None:
        mid = await super().direct(platform, workspace, user_id, reply)
        self.log.append((f"@{user_id}", reply))
        return mid


async def _pass(bot: Bot, rows: list[Row]) -> None:
    rec = bot.messenger
    assert isinstance(rec, TimedRecorder)
    before, threads = len(rec.log), len(rec.threads)
    sent = await run_due(bot)
    new = rec.log[before:]
    assert len(new) == len(sent), (sent, new)  # one message per delivery
    opened = [f"t-{mid}" for _place, mid, _name in rec.threads[threads:]]
    for s, (to, reply) in zip(sent, new, strict=True):
        text = to_plain(reply)
        if s.kind in ("channel", "card") and opened:
            to += f", opens thread {opened.pop(0)}"
        rows.append(Row(bot.clock.now(), s.kind, s.key, to, text.splitlines()[0], text))


async def _until(bot: Bot, end: datetime, rows: list[Row]) -> None:
    """From wake-up to wake-up, as the scheduler arms them, up to ``end``."""
    clock = bot.clock
    assert isinstance(clock, ManualClock)
    while True:
        await _pass(bot, rows)
        wake = await bot.db(next_wakeup, now=clock.now())
        if wake is None or wake > end:
            clock.set(end)
            return
        clock.set(wake)


async def simulate(bot: Bot) -> list[Row]:
    """Drive ``bot`` (a TimedRecorder and a ManualClock) through the fortnight."""
    clock = bot.clock
    assert isinstance(clock, ManualClock) and isinstance(bot.messenger, TimedRecorder)
    rows: list[Row] = []
    clock.set(SET_AT)
    await cmd(bot, "/rotation join", user="alice")
    await cmd(bot, "/rotation join", user="bob")
    reply = await org(bot, f'/readgroup config meeting "{MEETING}"')
    assert "meets every" in reply, reply
    await _until(bot, PROPOSED_AT, rows)

    def propose(*, session):  # type: ignore[no-untyped-def]
        group = session.exec(select(Group)).one()
        alice = session.exec(select(Member).where(Member.user_id == "alice")).one()
        return seed_paper(
            session=session,
            group=group,
            member=alice,
            arxiv_id="2612.00001",
            title="A Paper Proposed After The Deadline",
            now=clock.now(),
        )

    await bot.db(propose)
    clock.set(PROPOSED_AT + SAFETY_TICK)
    await _until(bot, END, rows)
    return rows


def table(rows: list[Row]) -> str:
    lines = ["| time (UTC) | kind | to | first line |", "| --- | --- | --- | --- |"]
    for r in rows:
        line = r.first_line if len(r.first_line) <= 100 else r.first_line[:99] + "…"
        lines.append(f"| {r.at:%a %d %b %H:%M} | {r.kind} | {r.to} | {line} |")
    return "\n".join(lines)


async def _main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            DATABASE_URL=f"sqlite:///{Path(tmp) / 'simulate.db'}",
            ARXIV_API_URL="http://127.0.0.1:9/api/query",  # never called: papers are seeded
            READGROUP_ORGANIZERS="",
            _env_file=None,  # type: ignore[call-arg]
        )
        bot = build_bot(
            settings,
            clock=ManualClock(SET_AT),
            messenger=TimedRecorder(),
            arxiv=ArxivClient(api_url=settings.arxiv_api_url),
        )
        try:
            rows = await simulate(bot)
        finally:
            await bot.aclose()
            bot.engine.dispose()
    print(table(rows))


if __name__ == "__main__":
    asyncio.run(_main())
