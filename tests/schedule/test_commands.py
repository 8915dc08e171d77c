"""The schedule commands through the router, as a user types them."""

from __future__ import annotations

from sqlmodel import select

from bot.app import Bot
from bot.chat.events import Actor, Command, Place
from bot.chat.replies import to_plain
from storage.groups.tables import Group, Member
from storage.papers.tables import ProposalStatus
from storage.schedule.tables import MeetingSession
from tests.schedule.conftest import Recorder, cmd, org, plain, seed_paper


async def test_config_shows_defaults_and_says_how_to_set_the_meeting(sbot: Bot) -> None:
    shown = plain(await cmd(sbot, "/readgroup config", user="bob"))
    assert "Meeting: not set" in shown
    assert "Channel reminders: 1d before, 1h before" in shown
    assert "Presenter nudge: 3 days before" in shown and "Pick deadline: 48 h before" in shown
    assert '/readgroup config meeting "Thu 16:00 Europe/Berlin"' in shown
    schedule = plain(await cmd(sbot, "/schedule", user="bob"))
    assert "no meeting time yet" in schedule and "/readgroup config meeting" in schedule


async def test_only_organizers_change_settings_and_bad_values_get_an_example(sbot: Bot) -> None:
    denied = await cmd(sbot, '/readgroup config meeting "Thu 16:00 Europe/Berlin"', user="bob")
    assert denied[0].private and "Only organizers" in plain(denied)
    bad = await cmd(sbot, "/readgroup config meeting Thursday 25:00 Mars/Base", admin=True)
    assert bad[0].private and "not a time of day" in plain(bad) and "Example:" in plain(bad)
    bad_zone = plain(await cmd(sbot, "/readgroup config meeting Thu 16:00 Berlin", admin=True))
    assert "not a time zone" in bad_zone and "Europe/Berlin" in bad_zone
    unknown = plain(await cmd(sbot, "/readgroup config colour blue", admin=True))
    assert "not a setting" in unknown and "meeting, duration" in unknown
    ok = plain(await cmd(sbot, "/readgroup config reminders 48h 2h", admin=True))
    assert "Channel reminders: 2d before, 2h before" in ok
    ok = plain(await cmd(sbot, "/readgroup config channel #papers", admin=True))
    assert "Announcements: #papers" in ok


async def test_organizers_are_set_from_platform_mentions(sbot: Bot) -> None:
    place = Place("slack", "T1", "C1")
    admin = Actor("slack", "UADMIN", "Admin", is_admin=True)
    text = "config organizers <@U111|ann> <@U222>"
    replies = await sbot.handle(Command("readgroup", text, admin, place), _ignore)
    assert "Organizers:" in plain(replies)

    def load(*, session):  # type: ignore[no-untyped-def]
        group = session.exec(select(Group).where(Group.platform == "slack")).one()
        members = session.exec(select(Member).where(Member.platform == "slack")).all()
        return group.organizers, {m.user_id: m.name for m in members}

    organizers, members = await sbot.db(load)
    assert organizers == ["U111", "U222"]
    assert members["U111"] == "ann" and "U222" in members  # created on first mention
    # Ann (not a workspace admin) may now change settings.
    ann = Actor("slack", "U111", "ann")
    ok = await sbot.handle(Command("readgroup", "config nudge 2d", ann, place), _ignore)
    assert "nudge 2 days" in plain(ok)


async def test_rotation_join_add_list_and_permissions(sbot: Bot) -> None:
    await org(sbot, '/readgroup config meeting "Thu 16:00 Europe/Berlin"')
    assert "joined" in plain(await cmd(sbot, "/rotation join", user="alice"))
    assert "already" in plain(await cmd(sbot, "/rotation join", user="alice"))
    denied = plain(await cmd(sbot, "/rotation add @bob", user="alice"))
    assert "Only organizers add other people" in denied
    assert "Added to the rotation: @bob, @carol." in await org(sbot, "/rotation add @bob carol")
    listing = plain(await cmd(sbot, "/rotation", user="dave"))
    assert "Rotation: 3 members" in listing
    assert listing.index("1. @alice") < listing.index("2. @bob") < listing.index("3. @carol")
    schedule = plain(await cmd(sbot, "/schedule", user="dave"))
    lines = [ln for ln in schedule.splitlines() if " · " in ln and "2026" in ln]
    assert len(lines) == 4  # the next four sessions
    assert [ln.split(" · ")[1] for ln in lines] == ["@alice", "@bob", "@carol", "@alice"]
    assert "Thu 8 Jan 2026, 16:00 Europe/Berlin" in lines[0]
    denied = plain(await cmd(sbot, "/rotation remove @bob", user="alice"))
    assert "Only organizers remove other people" in denied
    assert "left the rotation" in plain(await cmd(sbot, "/rotation leave", user="bob"))
    schedule = plain(await cmd(sbot, "/schedule", user="dave"))
    assert "@bob" not in schedule


async def test_swap_and_skip_change_the_upcoming_presenters(sbot: Bot) -> None:
    await org(sbot, '/readgroup config meeting "Thu 16:00 Europe/Berlin"')
    await org(sbot, "/rotation add @alice @bob @carol")
    assert "Only organizers swap" in plain(await cmd(sbot, "/rotation swap @alice @carol"))
    swapped = await org(sbot, "/rotation swap @alice @carol")
    assert "Swapped: @carol now presents Thu 8 Jan" in swapped
    assert (await _presenters(sbot))[:4] == ["carol", "bob", "alice", "carol"]
    denied = plain(await cmd(sbot, "/rotation skip", user="bob"))
    assert "Only the next presenter or an organizer" in denied
    skipped = plain(await cmd(sbot, "/rotation skip", user="carol"))
    assert "@carol moves back" in skipped and "now presented by @bob" in skipped
    assert (await _presenters(sbot))[:2] == ["bob", "carol"]


async def test_away_in_words_passes_the_member_over(sbot: Bot) -> None:
    await org(sbot, '/readgroup config meeting "Thu 16:00 Europe/Berlin"')
    await org(sbot, "/rotation add @alice @bob @carol")
    assert (await _presenters(sbot))[0] == "alice"
    said = plain(await cmd(sbot, "/away this week", user="alice"))
    assert "@alice is away 2026-01-05 to 2026-01-11" in said
    assert (await _presenters(sbot))[:4] == ["bob", "alice", "carol", "bob"]
    bad = plain(await cmd(sbot, "/away whenever", user="alice"))
    assert "can't read whenever" in bad and "/away next week" in bad
    assert "Only organizers mark other people" in plain(
        await cmd(sbot, "/away @bob next week", user="alice")
    )
    await org(sbot, "/away @bob 2026-01-08 2026-01-08")
    assert (await _presenters(sbot))[:2] == ["carol", "alice"]
    assert "Cleared 1 away period" in plain(await cmd(sbot, "/away clear", user="alice"))


async def test_holiday_skip_cancels_the_date_and_shifts_the_rotation(sbot: Bot) -> None:
    await org(sbot, '/readgroup config meeting "Thu 16:00 Europe/Berlin"')
    await org(sbot, "/rotation add @alice @bob")
    wrong_day = await org(sbot, "/readgroup skip 2026-01-14")
    assert "meets on Thursdays" in wrong_day and "2026-01-14 is a Wednesday" in wrong_day
    assert "No session on 2026-01-15" in await org(sbot, "/readgroup skip 2026-01-15")
    schedule = plain(await cmd(sbot, "/schedule"))
    assert "15 Jan" not in schedule.split("Skipped")[0] and "Skipped: 2026-01-15" in schedule
    assert (await _presenters(sbot))[:2] == ["alice", "bob"]


async def test_present_picks_from_the_queue_or_a_new_reference(sbot: Bot) -> None:
    await org(sbot, '/readgroup config meeting "Thu 16:00 Europe/Berlin"')
    await org(sbot, "/rotation add @alice @bob")

    def seed(*, session):  # type: ignore[no-untyped-def]
        group = session.exec(select(Group)).one()
        bob = session.exec(select(Member).where(Member.user_id == "bob")).one()
        return seed_paper(
            session=session,
            group=group,
            member=bob,
            arxiv_id="2601.00001",
            title="Queued Paper",
            now=sbot.clock.now(),
        )

    proposal_id = await sbot.db(seed)
    denied = plain(await cmd(sbot, "/present 2601.00001", user="carol"))
    assert "not presenting soon" in denied and "@alice" in denied
    picked = await cmd(sbot, "/present 2601.00001", user="alice")
    assert picked[0].private and "Queued Paper" in plain(picked)
    rec = sbot.messenger
    assert isinstance(rec, Recorder)
    assert len(rec.posts) == 1 and "@alice presents this on" in to_plain(rec.posts[0][1])
    assert len(rec.threads) == 1
    meeting = await _first(sbot)
    assert meeting.proposal_id == proposal_id and meeting.thread_id == "t-m1"
    assert meeting.paper_chosen_by == "presenter"
    # A new reference: proposed, fetched from (fake) arXiv, put on bob's session.
    new = await cmd(sbot, "/present https://arxiv.org/abs/1605.08386", user="bob")
    assert "Heat-bath random walks" in plain(new)
    schedule = plain(await cmd(sbot, "/schedule"))
    assert "Queued Paper" in schedule and "Heat-bath random walks" in schedule

    def statuses(*, session):  # type: ignore[no-untyped-def]
        from storage.papers.tables import Proposal

        return sorted(p.status for p in session.exec(select(Proposal)).all())

    assert await sbot.db(statuses) == [ProposalStatus.SCHEDULED] * 2
    taken = plain(await cmd(sbot, "/present 2601.00001", user="bob"))
    # bob's own session is the 15th; the paper is alice's, and the answer says so
    assert "Queued Paper is already the paper for Thu 8 Jan 2026" in taken
    assert "(@alice presents it), not for Thu 15 Jan 2026" in taken


async def test_help_lists_every_schedule_command(sbot: Bot) -> None:
    shown = plain(await cmd(sbot, "/help"))
    for name in ("/readgroup", "/rotation", "/away", "/schedule", "/present", "/takeaways"):
        assert name in shown


async def test_schedule_ics_replies_with_the_calendar(sbot: Bot) -> None:
    await org(sbot, '/readgroup config meeting "Thu 16:00 Europe/Berlin"')
    await org(sbot, "/rotation add @alice")
    reply = (await cmd(sbot, "/schedule ics"))[0]
    # The calendar is an attachment, not ~150 lines pasted into the chat.
    text = to_plain(reply)
    assert reply.private and "BEGIN:VCALENDAR" not in text
    assert "calendar (8 sessions)" in text and "readgroup-schedule.ics" in text
    (ics,) = reply.files
    assert ics.name == "readgroup-schedule.ics" and ics.mime == "text/calendar"
    body = ics.content.decode()
    assert body.startswith("BEGIN:VCALENDAR") and body.count("BEGIN:VEVENT") == 8
    assert "DTSTART;TZID=Europe/Berlin:20260108T160000" in body


async def _presenters(bot: Bot) -> list[str]:
    def load(*, session):  # type: ignore[no-untyped-def]
        rows = session.exec(
            select(MeetingSession)
            .where(MeetingSession.status == "scheduled")
            .order_by(MeetingSession.starts_at)  # type: ignore[arg-type]
        ).all()
        names = {m.id: m.user_id for m in session.exec(select(Member)).all()}
        return [names.get(r.presenter_member_id, "-") for r in rows]

    return await bot.db(load)


async def _first(bot: Bot) -> MeetingSession:
    def load(*, session):  # type: ignore[no-untyped-def]
        return session.exec(
            select(MeetingSession).order_by(MeetingSession.starts_at)  # type: ignore[arg-type]
        ).first()

    return await bot.db(load)


async def _ignore(reply) -> None:  # type: ignore[no-untyped-def]
    return None


async def test_swap_refuses_to_put_someone_on_their_away_date(sbot: Bot) -> None:
    await org(sbot, '/readgroup config meeting "Thu 16:00 Europe/Berlin"')
    await org(sbot, "/rotation add @alice @bob @carol")
    await cmd(sbot, "/away 2026-01-08 2026-01-08", user="alice")
    before = await _presenters(sbot)
    assert before[:2] == ["bob", "alice"]
    refused = await org(sbot, "/rotation swap @alice @bob")
    assert "Alice is away on 2026-01-08" in refused
    assert await _presenters(sbot) == before
