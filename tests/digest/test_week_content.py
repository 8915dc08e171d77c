"""What a week's post is made of: the schedule area's sessions and the week's
other proposals (most voted first), and where the post goes."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.app import Bot
from bot.chat.events import Action, Command
from bot.chat.replies import Reply, to_plain
from bot.digest import gather, periods
from bot.digest import weekly as dg
from bot.infra.clock import ManualClock
from bot.schedule.week_sessions import SessionInfo
from storage.groups.tables import Member
from storage.papers.tables import Proposal, ProposalStatus, Vote
from tests.digest.conftest import ORGANIZER, PLACE, WEEK, at, seed


async def _noop(reply: Reply) -> None:
    return None


async def test_the_digest_works_with_the_real_schedule_area_whatever_it_returns(bot: Bot) -> None:
    """No patching: sessions_between may still return [] or real sessions; the
    week's proposals are there either way."""
    bot.clock = ManualClock(at(WEEK))
    s = seed(bot, sessions=0, also=3)
    [reply] = await bot.handle(Command("digest", "", ORGANIZER, PLACE), _noop)
    text = to_plain(reply)
    assert "Also proposed" in text
    for paper in s.also:
        assert paper.title in text


def test_other_weeks_and_withdrawn_proposals_are_left_out_and_votes_order_the_rest(
    bot: Bot, sessions_patch: list[SessionInfo]
) -> None:
    s = seed(bot, sessions=1, also=3)
    sessions_patch.extend(s.sessions)
    seed(bot, sessions=0, also=1, week=periods.Week(2026, 46), start_index=10)
    withdrawn, low, high = s.also

    def adjust(*, session):  # type: ignore[no-untyped-def]
        p = session.exec(select(Proposal).where(Proposal.paper_id == withdrawn.id)).one()
        p.status = ProposalStatus.WITHDRAWN
        session.add(p)
        top = session.exec(select(Proposal).where(Proposal.paper_id == high.id)).one()
        for i in range(3):
            m = Member(
                platform="console", workspace="local", user_id=f"u{i}", created_at=top.created_at
            )
            session.add(m)
            session.flush()
            session.add(Vote(proposal_id=top.id, member_id=m.id, created_at=top.created_at))

    bot.db_sync(adjust)
    content = bot.db_sync(gather.gather_week, group_id=s.group_id, start=WEEK.start, end=WEEK.end)
    assert [f.paper.id for f in content.featured] == [s.papers[0].id]
    assert [a.paper.id for a in content.also] == [high.id, low.id]  # not the presented one
    assert content.also[0].votes == 4


async def test_approval_posts_to_the_configured_announcement_channel(
    bot: Bot, sessions_patch: list[SessionInfo]
) -> None:
    from storage.schedule.tables import GroupSettings

    bot.clock = ManualClock(at(WEEK))
    s = seed(bot, sessions=1)
    sessions_patch.extend(s.sessions)
    bot.db_sync(
        lambda *, session: session.add(
            GroupSettings(
                group_id=s.group_id,
                announce_channel="announcements",
                updated_at=at(WEEK) - timedelta(days=1),
            )
        )
    )
    [draft] = await bot.handle(Command("digest", "", ORGANIZER, PLACE), _noop)
    draft_id = next(b.value for blk in draft.blocks for b in getattr(blk, "buttons", ()))
    [done] = await bot.handle(Action(dg.APPROVE, draft_id, ORGANIZER, PLACE), _noop)
    assert "#announcements" in to_plain(done)
    [(channel, _post)] = bot.messenger.sent  # type: ignore[attr-defined]
    assert channel == "announcements"
