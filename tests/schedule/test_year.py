"""A simulated year of weekly sessions driven through the commands, with
joins, a leave, aways, holidays, a skipped turn and a swap: the rotation stays
fair and never assigns anyone on their away dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from bot.app import Bot
from bot.chat.replies import to_plain
from bot.infra.clock import ManualClock
from bot.schedule import rotation
from storage.groups.tables import Group, Member
from storage.papers.tables import Proposal, ProposalStatus
from storage.schedule.tables import Away, MeetingSession, SessionStatus
from tests.schedule.conftest import START, cmd, org, run_until, seed_paper

#: Started first among the parallel tests (tests/conftest.py): each simulated
#: year takes 7-18 s (SQLite / PostgreSQL), and begun last they had kept one
#: worker running alone at the end of the suite.
pytestmark = pytest.mark.slow(seconds=10)

BERLIN = ZoneInfo("Europe/Berlin")
WEEKS = 52


def thursday(week: int) -> date:
    return (START + timedelta(weeks=week, days=3)).date()


def span(first_week: int, weeks: int) -> str:
    """An away period covering ``weeks`` Thursdays from ``first_week`` on."""
    return f"{thursday(first_week) - timedelta(days=1)} {thursday(first_week + weeks - 1)}"


async def simulate(bot: Bot, events: dict[int, list[tuple[str, str]]]) -> Outcome:
    """Run ``WEEKS`` weeks from START: each Monday 09:00 UTC with commands,
    those commands, then the reminder loop wake-up by wake-up to the next
    such Monday (or the end)."""
    clock = bot.clock
    assert isinstance(clock, ManualClock)
    await org(bot, '/readgroup config meeting "Thu 16:00 Europe/Berlin"')
    for user in ("a", "b", "c", "d", "e", "f"):
        await cmd(bot, "/rotation join", user=user)

    def seed(*, session):  # type: ignore[no-untyped-def]
        group = session.exec(select(Group)).one()
        a = session.exec(select(Member).where(Member.user_id == "a")).one()
        for i in range(WEEKS):
            seed_paper(
                session=session,
                group=group,
                member=a,
                arxiv_id=f"2601.{i:05d}",
                title=f"Paper {i}",
                now=START,
            )

    await bot.db(seed)
    # Between weeks with commands the loop wakes only when the scheduler
    # would: a pass at each Monday in between changed nothing and was 42 of
    # the 352 passes of the year with joins (14,702 SQL statements, now 13,441).
    starts = sorted({0, *events, WEEKS})
    for week, until in pairwise(starts):
        clock.set(START + timedelta(weeks=week))  # Monday 09:00 UTC
        for user, text in events.get(week, []):
            if user == "next":
                user = await _next_presenter(bot)
            out = await cmd(bot, text, user=user, admin=user == "olga")
            assert out and not any(r.private and "Only" in to_plain(r) for r in out), text
        await run_until(bot, START + timedelta(weeks=until))
    end = clock.now()

    def load(*, session):  # type: ignore[no-untyped-def]
        group = session.exec(select(Group)).one()
        counts = rotation.presentation_counts(session=session, group_id=group.id, now=end)
        names = {m.id: m.user_id for m in session.exec(select(Member)).all()}
        meetings = session.exec(
            select(MeetingSession)
            .where(col(MeetingSession.starts_at) <= end)
            .order_by(col(MeetingSession.starts_at))
        ).all()
        presented = session.exec(
            select(Proposal).where(Proposal.status == ProposalStatus.PRESENTED)
        ).all()
        return Outcome(
            counts={names[k]: v for k, v in counts.items()},
            meetings=list(meetings),
            aways=list(session.exec(select(Away)).all()),
            names=names,
            presented=len(presented),
        )

    out = await bot.db(load)
    print(f"\npresentations per member over {WEEKS} weeks: {dict(sorted(out.counts.items()))}")
    print("order:", " ".join(out.names.get(m.presenter_member_id, "-") for m in out.meetings))
    return out


@dataclass
class Outcome:
    counts: dict[str, int]
    meetings: list[MeetingSession]
    aways: list[Away]
    names: dict[int | None, str]
    presented: int

    def done(self) -> list[MeetingSession]:
        return [m for m in self.meetings if m.status == SessionStatus.DONE]

    def assert_fair_among(self, users: tuple[str, ...]) -> None:
        counts = [self.counts.get(u, 0) for u in users]
        assert max(counts) - min(counts) <= 1, self.counts

    def assert_nobody_presents_while_away(self) -> None:
        for m in self.done():
            assert m.presenter_member_id is not None
            day = _local(m)
            for away in self.aways:
                if away.member_id == m.presenter_member_id:
                    assert not away.first_day <= day <= away.last_day, (
                        self.names[away.member_id],
                        day,
                    )

    def presenters_after(self, day: date) -> set[str]:
        return {self.names[m.presenter_member_id] for m in self.done() if _local(m) > day}


AWAYS = {
    8: [("b", f"/away {span(9, 2)}")],
    20: [("d", f"/away {span(20, 3)}")],
    30: [("a", f"/away {span(30, 1)}")],
    40: [("c", "/away next week")],
    45: [("e", f"/away {span(45, 2)}")],
}


@pytest.mark.slow(seconds=13)
async def test_52_weeks_six_members_with_aways_and_a_leave_stay_fair(sbot: Bot) -> None:
    events = {**AWAYS, 26: [("f", "/rotation leave")]}
    out = await simulate(sbot, events)
    assert len(out.done()) == WEEKS and out.presented == WEEKS
    out.assert_fair_among(("a", "b", "c", "d", "e"))
    out.assert_nobody_presents_while_away()
    assert "f" not in out.presenters_after(thursday(26))
    assert len(out.aways) == 5


@pytest.mark.slow(seconds=9)
async def test_a_year_with_joins_leaves_aways_holidays_and_skipped_turns(sbot: Bot) -> None:
    events = {
        **AWAYS,
        15: [("olga", f"/readgroup skip {thursday(16)}")],
        26: [("f", "/rotation leave")],
        30: [*AWAYS[30], ("g", "/rotation join")],
        35: [("next", "/rotation skip")],
        40: [*AWAYS[40], ("olga", f"/readgroup skip {thursday(41)}")],
        44: [("olga", "/rotation add @h")],
    }
    out = await simulate(sbot, events)
    done = out.done()
    cancelled = [m for m in out.meetings if m.status == SessionStatus.CANCELLED]
    assert len(done) == WEEKS - 2
    assert {_local(m) for m in cancelled} == {thursday(16), thursday(41)}
    assert all(m.presenter_member_id is None for m in cancelled)
    assert out.presented == len(done)  # every session had a paper, now presented
    out.assert_fair_among(("a", "b", "c", "d", "e"))
    out.assert_nobody_presents_while_away()
    assert "f" not in out.presenters_after(thursday(26))
    assert out.counts.get("g", 0) >= 3 and out.counts.get("h", 0) >= 1
    assert len({_local(m) for m in done}) == len(done)  # one session a week


def _local(m: MeetingSession) -> date:
    return m.starts_at.replace(tzinfo=UTC).astimezone(BERLIN).date()


async def _next_presenter(bot: Bot) -> str:
    def load(*, session):  # type: ignore[no-untyped-def]
        group = session.exec(select(Group)).one()
        from bot.schedule.meetings import upcoming

        nxt = upcoming(session=session, group_id=group.id, now=bot.clock.now(), limit=1)[0]
        return session.get(Member, nxt.presenter_member_id).user_id

    return await bot.db(load)
