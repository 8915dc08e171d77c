"""App Home shows only the viewer's own groups: in their team, where they take
part. Two teams, three channels; nobody sees another channel's queue."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session

from bot.app import Bot
from bot.chat.events import Actor, Place
from bot.chat.replies import Reply, to_plain
from bot.groups.members import ensure_group, ensure_member
from bot.papers.proposals import toggle_vote
from bot.schedule.home_view import home_blocks, load_home
from tests.schedule.conftest import seed_paper

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
C1 = Place("slack", "T0001", "C0001")
C2 = Place("slack", "T0001", "C0002")
C3 = Place("slack", "T0002", "C0003")


def _propose(session: Session, place: Place, user: str, arxiv_id: str) -> int:
    group = ensure_group(session=session, place=place, now=NOW)
    member = ensure_member(
        session=session, actor=Actor("slack", user, user), workspace=place.workspace, now=NOW
    )
    return seed_paper(
        session=session,
        group=group,
        member=member,
        arxiv_id=arxiv_id,
        title=f"Paper of {place.channel}",
        now=NOW,
    )


def _shown(bot: Bot, workspace: str, user: str) -> str:
    data = bot.db_sync(load_home, platform="slack", workspace=workspace, user_id=user, now=NOW)
    return to_plain(Reply(blocks=tuple(home_blocks(data))))


async def test_home_lists_only_the_groups_the_viewer_takes_part_in(bot: Bot) -> None:
    def seed(*, session: Session) -> int:
        _propose(session, C1, "UALICE", "2611.00001")
        c2 = _propose(session, C2, "UCAROL", "2611.00002")
        _propose(session, C3, "UDAVE", "2611.00003")
        # a user who ran a command once in T0002 but takes part in nothing there
        ensure_member(
            session=session, actor=Actor("slack", "UALICE", "a"), workspace="T0002", now=NOW
        )
        return c2

    c2_proposal = bot.db_sync(seed)

    alice = _shown(bot, "T0001", "UALICE")
    assert "#C0001" in alice and "Paper of C0001" in alice
    assert "C0002" not in alice and "C0003" not in alice

    assert "C000" not in _shown(bot, "T0001", "UNEWBIE")  # never used the bot
    assert "not in a reading group yet" in _shown(bot, "T0001", "UNEWBIE")
    assert "C000" not in _shown(bot, "T0002", "UALICE")  # other team: nothing of hers
    dave = _shown(bot, "T0002", "UDAVE")
    assert "#C0003" in dave and "C0001" not in dave and "C0002" not in dave

    def vote(*, session: Session) -> None:
        alice_row = ensure_member(
            session=session, actor=Actor("slack", "UALICE", "a"), workspace="T0001", now=NOW
        )
        toggle_vote(session=session, proposal_id=c2_proposal, member=alice_row, now=NOW)

    bot.db_sync(vote)
    alice = _shown(bot, "T0001", "UALICE")
    assert "#C0001" in alice and "#C0002" in alice and "C0003" not in alice
