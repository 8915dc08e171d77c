"""Wording and small checks of the schedule commands, through the router as a
user types them (issue 13 defect 7), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from bot.app import Bot
from bot.chat.events import Actor, Command, Place
from bot.chat.replies import Reply
from bot.infra.clock import ManualClock
from storage.groups.tables import Group, Member
from storage.papers.tables import ProposalStatus
from tests.schedule.conftest import cmd, org, plain, seed_paper

MEETING = '/readgroup config meeting "Thu 16:00 Europe/Berlin"'
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


async def _ignore(reply: Reply) -> None:
    return None


# --- 1. weekday names --------------------------------------------------------


@pytest.mark.parametrize("weekday", range(7))
async def test_skip_on_the_wrong_weekday_names_both_days_in_full(sbot: Bot, weekday: int) -> None:
    short = WEEKDAY_NAMES[weekday][:3]
    await org(sbot, f'/readgroup config meeting "{short} 16:00 Europe/Berlin"')
    other = date(2026, 1, 12) + timedelta(days=(weekday + 1) % 7)  # 12 Jan 2026 is a Monday
    said = await org(sbot, f"/readgroup skip {other}")
    meets = WEEKDAY_NAMES[weekday]
    assert f"The group meets on {meets}s; {other} is a {WEEKDAY_NAMES[other.weekday()]}." in said
    assert "Thus" not in said and "Weds" not in said


# --- 2. friendly dates, each command with its own examples ---------------------


async def test_skip_accepts_next_thursday_and_its_errors_show_skip_examples(sbot: Bot) -> None:
    await org(sbot, MEETING)
    # Monday 5 Jan 2026: next thursday is the 8th.
    assert "No session on 2026-01-08" in await org(sbot, "/readgroup skip next thursday")
    assert "No session on 2026-01-15" in await org(sbot, "/readgroup skip 2026-01-15")
    bad = await org(sbot, "/readgroup skip someday")
    assert "can't read someday as a date" in bad
    assert "/readgroup skip 2026-12-24" in bad and "/readgroup skip next thursday" in bad
    assert "/away" not in bad
    empty = await org(sbot, "/readgroup skip")
    assert "/readgroup skip next thursday" in empty and "/away" not in empty
    period = await org(sbot, "/readgroup skip next week")
    assert "one date" in period and "/away" not in period


async def test_takeaways_accepts_yesterday_in_the_groups_zone(sbot: Bot) -> None:
    await org(sbot, MEETING)
    clock = sbot.clock
    assert isinstance(clock, ManualClock)
    # Friday 9 Jan, 00:30 in Berlin (still Thursday 23:30 UTC): yesterday is
    # the Thursday of the session in the group's zone, not in UTC.
    clock.set(datetime(2026, 1, 8, 23, 30, tzinfo=UTC))
    said = plain(await cmd(sbot, "/takeaways yesterday"))
    assert "Takeaways: Thu 8 Jan 2026" in said
    assert "Takeaways: Thu 8 Jan 2026" in plain(await cmd(sbot, "/takeaways thursday"))
    assert "Takeaways: Thu 8 Jan 2026" in plain(await cmd(sbot, "/takeaways last thu"))
    bad = plain(await cmd(sbot, "/takeaways the other day"))
    assert "can't read the (in the other day) as a date" in bad
    assert "/takeaways yesterday" in bad and "/takeaways 2026-11-19" in bad
    assert "/away" not in bad


async def test_away_errors_still_show_away_examples(sbot: Bot) -> None:
    bad = plain(await cmd(sbot, "/away whenever"))
    assert "can't read whenever as a date" in bad and "/away next week" in bad


# --- 3. /help ------------------------------------------------------------------


async def test_help_marks_organizer_commands_once(sbot: Bot) -> None:
    shown = plain(await cmd(sbot, "/help"))
    digest = next(ln for ln in shown.splitlines() if ln.startswith("/digest"))
    assert digest.count("(organizers)") == 1, digest
    assert ". (organizers)" not in digest.replace("approval. (organizers)", "")
    for line in shown.splitlines():
        assert line.count("(organizers)") <= 1, line


# --- 5. plurals ----------------------------------------------------------------


async def test_nudge_days_are_counted_in_words(sbot: Bot) -> None:
    shown = plain(await cmd(sbot, "/readgroup config"))
    assert "Presenter nudge: 3 days before" in shown and "(s)" not in shown
    assert "nudge 1 day before" in await org(sbot, "/readgroup config nudge 1d")
    assert "Presenter nudge: 1 day before" in await org(sbot, "/readgroup config")
    assert "nudge 2 days before" in await org(sbot, "/readgroup config nudge 2d")


# --- 7. /away for someone the bot has never seen --------------------------------


async def test_away_for_a_stranger_is_refused_and_creates_nobody(sbot: Bot) -> None:
    await org(sbot, MEETING)
    said = await org(sbot, "/away @nobody 2026-01-08 2026-01-09")
    assert "I don't know @nobody yet" in said and "/rotation add @nobody" in said

    def members(*, session):  # type: ignore[no-untyped-def]
        return sorted(m.user_id for m in session.exec(select(Member)).all())

    assert "nobody" not in await sbot.db(members)
    await org(sbot, "/rotation add @bob")
    assert "@bob is away 2026-01-08 to 2026-01-09" in await org(
        sbot, "/away @bob 2026-01-08 2026-01-09"
    )


async def test_away_for_a_slack_user_never_seen_is_refused_with_their_mention(sbot: Bot) -> None:
    place = Place("slack", "T1", "C1")
    admin = Actor("slack", "UADMIN", "Admin", is_admin=True)
    replies = await sbot.handle(
        Command("away", "<@U999|nobody> 2026-01-08 2026-01-09", admin, place), _ignore
    )
    (reply,) = replies
    assert reply.private
    text = reply.blocks[0].markup  # type: ignore[union-attr]
    assert text.startswith("I don't know <@U999> yet") and "this workspace" in text

    def members(*, session):  # type: ignore[no-untyped-def]
        return [m.user_id for m in session.exec(select(Member)).all()]

    assert "U999" not in await sbot.db(members)
    # Someone who has used the bot is fine.
    await sbot.handle(Command("queue", "", Actor("slack", "U999", "nobody"), place), _ignore)
    ok = await sbot.handle(
        Command("away", "<@U999|nobody> 2026-01-08 2026-01-09", admin, place), _ignore
    )
    assert "is away 2026-01-08 to 2026-01-09" in plain(ok)


async def test_away_for_a_discord_user_never_seen_says_server(sbot: Bot) -> None:
    place = Place("discord", "42", "7")
    admin = Actor("discord", "1", "Admin", is_admin=True)
    replies = await sbot.handle(Command("away", "<@!555> tomorrow", admin, place), _ignore)
    text = plain(replies)
    assert "I don't know @555 yet" in text and "this server" in text


# --- 8. /rotation skip says where the chosen paper goes ---------------------------


async def test_rotation_skip_says_the_chosen_paper_goes_back_to_the_queue(sbot: Bot) -> None:
    await org(sbot, MEETING)
    await org(sbot, "/rotation add @alice @bob")

    def seed(*, session):  # type: ignore[no-untyped-def]
        group = session.exec(select(Group)).one()
        alice = session.exec(select(Member).where(Member.user_id == "alice")).one()
        return seed_paper(
            session=session,
            group=group,
            member=alice,
            arxiv_id="1706.03762",
            title="Attention Is All You Need",
            now=sbot.clock.now(),
        )

    proposal_id = await sbot.db(seed)
    picked = plain(await cmd(sbot, "/present 1706.03762", user="alice"))
    assert "Attention Is All You Need" in picked
    skipped = plain(await cmd(sbot, "/rotation skip", user="alice"))
    assert "@alice moves back" in skipped
    assert "The paper they chose, Attention Is All You Need, goes back to the queue" in skipped

    def status(*, session):  # type: ignore[no-untyped-def]
        from storage.papers.tables import Proposal

        return session.get(Proposal, proposal_id).status

    assert await sbot.db(status) == ProposalStatus.OPEN
    # Without a chosen paper there is nothing to say about one.
    again = plain(await cmd(sbot, "/rotation skip", user="bob"))
    assert "moves back" in again and "goes back to the queue" not in again
