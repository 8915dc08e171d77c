"""The seeded quarter loads through the real services, up to any moment."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.app import Bot
from bot.schedule import discussion
from storage.papers import queries as pq
from storage.schedule.tables import SessionStatus
from tests.digest.quarter_seed import load_quarter, session_row


async def test_the_whole_quarter_loads(bot: Bot) -> None:
    q = load_quarter(bot)
    assert len(q.session_ids) == 13 and len(q.proposal_ids) == 13
    statuses = [session_row(bot, sid).status for sid in q.session_ids.values()]
    assert statuses.count(SessionStatus.DONE) == 11
    assert statuses.count(SessionStatus.CANCELLED) == 2

    def counts(*, session):  # type: ignore[no-untyped-def]
        votes = [pq.vote_count(session, pid) for pid in q.proposal_ids.values()]
        marked = sum(
            len(discussion.takeaways(session=session, meeting_id=sid))
            for sid in q.session_ids.values()
        )
        said = sum(
            len(discussion.messages(session=session, meeting_id=sid))
            for sid in q.session_ids.values()
        )
        return votes, marked, said

    votes, marked, said = bot.db_sync(counts)
    assert min(votes) == 0 and max(votes) == 4
    assert (marked, said) == (18, 63)


async def test_on_a_tuesday_thursday_is_still_to_come(bot: Bot) -> None:
    q = load_quarter(bot, now=datetime(2026, 9, 22, 9, 0, tzinfo=UTC))
    last = session_row(bot, q.session_ids["s13"])
    assert last.status == SessionStatus.SCHEDULED
    assert last.presenter_member_id == q.member_ids["aiko"]
    assert last.proposal_id == q.proposal_ids["2502.07719"]
    assert session_row(bot, q.session_ids["s12"]).status == SessionStatus.DONE
    assert bot.clock.now() == datetime(2026, 9, 22, 9, 0, tzinfo=UTC)
