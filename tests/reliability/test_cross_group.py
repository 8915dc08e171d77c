"""Nobody acts where they don't belong: two teams, three channels, 0 cross-group
reads or writes through any button, form, command or admin right.

``TARGETS`` says, for every action the router registers, which entity of a
group its value names; the first test fails when an action is added without
an entry here or without an owner lookup in the router (so it is checked
against the place it is pressed in). Then every action is pressed in channel
C0001 of team T0001 with the value of a proposal/draft of channel C0002 (same
team) and of channel C0003 (team T0002), by T0001's workspace admin: the answer
is a private "belongs to another channel's reading group", nothing is posted,
no message is replaced, and not one row of any table changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlmodel import select

from bot.app import Bot
from bot.chat.events import Action, Actor, Command, Place
from bot.chat.replies import Reply, to_plain
from bot.digest import drafts
from bot.digest import weekly as dg
from bot.infra.clock import ManualClock
from storage.groups.tables import Group, Member
from tests.digest.conftest import WEEK, at
from tests.reliability.test_security_permissions import dump
from tests.schedule.conftest import Recorder, seed_paper
from tests.world_snapshot import WorldSnapshots

T1, T2 = "T0001", "T0002"
HOME = Place("slack", T1, "C0001")  # where every button is pressed
SIBLING = Place("slack", T1, "C0002")  # same team, other channel
ABROAD = Place("slack", T2, "C0003")  # other team
DM = Place("slack", T1, "D0001", direct=True)

ADMIN1 = Actor("slack", "UADMIN", "Admin One", is_admin=True, workspace=T1)
ADMIN2 = Actor("slack", "UADMIN2", "Admin Two", is_admin=True, workspace=T2)
ALICE = Actor("slack", "UALICE", "Alice")  # a member of T0001, in C0001
CAROL = Actor("slack", "UCAROL", "Carol")  # a member of T0001, in C0002
DAVE = Actor("slack", "UDAVE", "Dave")  # a member of T0002


@dataclass
class GroupWorld:
    place: Place
    proposal_id: int
    draft_id: int
    group_id: int


@dataclass
class World:
    bot: Bot
    groups: dict[str, GroupWorld]


async def _ignore(reply: Reply) -> None:
    """Follow-ups are not what these tests look at."""


async def say(bot: Bot, actor: Actor, place: Place, text: str) -> list[Reply]:
    name, _, rest = text.lstrip("/").partition(" ")
    return await bot.handle(Command(name, rest, actor, place), _ignore)


def plain(replies: list[Reply]) -> str:
    return "\n".join(to_plain(r) for r in replies)


async def _group(bot: Bot, place: Place, admin: Actor, member: Actor, n: int) -> GroupWorld:
    await say(bot, admin, place, '/readgroup config meeting "Thu 16:00 Europe/Berlin"')
    await say(bot, member, place, "/rotation join")

    def setup(*, session):  # type: ignore[no-untyped-def]
        group = session.exec(
            select(Group).where(Group.workspace == place.workspace, Group.channel == place.channel)
        ).one()
        proposer = session.exec(
            select(Member).where(
                Member.workspace == place.workspace, Member.user_id == member.user_id
            )
        ).one()
        pid = seed_paper(
            session=session,
            group=group,
            member=proposer,
            arxiv_id=f"2611.0000{n}",
            title=f"Paper of #{place.channel}",
            now=bot.clock.now(),
        )
        return pid, group.id

    proposal_id, group_id = await bot.db(setup)
    [reply] = await say(bot, admin, place, f"/digest {WEEK.label}")
    button = drafts.parse_value(
        next(
            b.value
            for blk in reply.blocks
            for b in getattr(blk, "buttons", ())
            if b.action == dg.APPROVE
        )
    )
    assert button is not None
    draft_id = button.draft_id
    return GroupWorld(place, proposal_id, draft_id, group_id)


@pytest.fixture
async def world(bot: Bot, world_snapshots: WorldSnapshots) -> World:
    """Three groups, each with a meeting, a member in its rotation, a proposal
    and a digest draft. Built once per process and database kind, copied for
    each test (tests.world_snapshot)."""
    bot.clock = ManualClock(at(WEEK))
    bot.messenger = Recorder()
    return World(bot, await world_snapshots.world("cross-group", bot, lambda: _groups(bot)))


async def _groups(bot: Bot) -> dict[str, GroupWorld]:
    return {
        "home": await _group(bot, HOME, ADMIN1, ALICE, 1),
        "sibling": await _group(bot, SIBLING, ADMIN1, CAROL, 2),
        "abroad": await _group(bot, ABROAD, ADMIN2, DAVE, 3),
    }


def _proposal(g: GroupWorld) -> str:
    return str(g.proposal_id)


def _draft(g: GroupWorld) -> str:
    return f"{g.draft_id}:1"  # as its first revision's buttons carry it


#: Action kind -> (the value naming a group's entity, form fields).
TARGETS: dict[str, tuple[Callable[[GroupWorld], str], tuple[tuple[str, str], ...]]] = {
    "upvote": (_proposal, ()),
    "upvote_queue": (_proposal, ()),
    "present_pick": (_proposal, ()),
    dg.APPROVE: (_draft, ()),
    dg.EDIT: (_draft, ()),
    dg.EDIT_SAVE: (_draft, (("title", "Taken over"), ("body1", "Rewritten elsewhere."))),
    dg.REGENERATE: (_draft, ()),
    dg.DISCARD: (_draft, ()),
    drafts.REGENERATE_ANYWAY: (_draft, ()),
    drafts.KEEP_EDIT: (_draft, ()),
}


def test_every_action_is_checked_against_its_place(bot: Bot) -> None:
    """Add a button? Give it an owner lookup (router.action(..., owner=)) and
    an entry in TARGETS, so it is tried from the wrong place below."""
    actions = set(bot.router.actions)
    assert actions == set(TARGETS), (
        f"untried actions: {actions - set(TARGETS)}; gone: {set(TARGETS) - actions}"
    )
    unchecked = actions - set(bot.router.owners)
    assert not unchecked, f"actions not checked against the place: {unchecked}"


def _press(kind: str, target: GroupWorld, actor: Actor, place: Place) -> Action:
    value, fields = TARGETS[kind]
    return Action(kind, value(target), actor, place, fields=fields)


CASES = [(kind, where) for kind in TARGETS for where in ("sibling", "abroad")]


@pytest.mark.parametrize(("kind", "where"), CASES, ids=[f"{k}-from-{w}" for k, w in CASES])
async def test_a_button_of_another_group_is_refused_and_changes_nothing(
    world: World, kind: str, where: str
) -> None:
    bot = world.bot
    recorder = bot.messenger
    assert isinstance(recorder, Recorder)
    sent_before = (len(recorder.posts), len(recorder.directs))
    before = dump(bot)
    replies = await bot.handle(_press(kind, world.groups[where], ADMIN1, HOME), _ignore)
    text = plain(replies)
    assert "belongs to another channel's reading group" in text, f"{kind}: {text}"
    assert all(r.private and not r.replace and r.form is None for r in replies), text
    assert (len(recorder.posts), len(recorder.directs)) == sent_before, f"{kind} sent something"
    after = dump(bot)
    changed = {t for t in before if before[t] != after.get(t)}
    assert not changed, f"{kind} pressed in #C0001 on #{where}'s entity changed {changed}"


async def test_a_member_votes_only_on_their_channels_cards(world: World) -> None:
    """The reported case: a vote from C0001 on C0002's and T0002's cards
    replaced the C0001 message with their card and queue."""
    bot = world.bot
    for where in ("sibling", "abroad"):
        for kind in ("upvote", "upvote_queue"):
            replies = await bot.handle(_press(kind, world.groups[where], ALICE, HOME), _ignore)
            assert not any(r.replace for r in replies)
            assert "Paper of" not in plain(replies)
    own = await bot.handle(_press("upvote", world.groups["home"], ALICE, HOME), _ignore)
    assert own and own[0].replace and "Paper of #C0001" in plain(own)


async def test_the_same_buttons_still_work_in_their_own_channel(world: World) -> None:
    bot = world.bot
    home = world.groups["home"]
    before = dump(bot)
    replies = await bot.handle(_press("upvote", home, CAROL, HOME), _ignore)
    assert replies[0].replace, plain(replies)
    replies = await bot.handle(_press(dg.REGENERATE, home, ADMIN1, HOME), _ignore)
    assert "Regenerated as revision 2" in plain(replies)
    assert dump(bot) != before


async def test_the_nudge_button_works_in_a_direct_message_and_nothing_else_does(
    world: World,
) -> None:
    """present_pick arrives from the presenter's DM; a card or draft button
    pressed in a DM is refused like one from another channel."""
    bot = world.bot
    home = world.groups["home"]
    picked = plain(await bot.handle(_press("present_pick", home, ALICE, DM), _ignore))
    assert "is the paper for" in picked, picked
    for kind in TARGETS:
        if kind == "present_pick":
            continue
        replies = await bot.handle(_press(kind, home, ADMIN1, DM), _ignore)
        assert "belongs to another channel's reading group" in plain(replies), kind


async def test_a_workspace_admin_organizes_only_their_own_workspace(world: World) -> None:
    """UADMIN, admin of T0001, in T0002's channel (a shared channel): no
    organizer rights there. T0002's own admin keeps them."""
    bot = world.bot
    abroad = world.groups["abroad"]
    before = dump(bot)
    for kind in (dg.REGENERATE, dg.APPROVE, dg.DISCARD, dg.EDIT_SAVE):
        replies = await bot.handle(_press(kind, abroad, ADMIN1, ABROAD), _ignore)
        assert "Only organizers" in plain(replies), f"{kind}: {plain(replies)}"
    refused = plain(await say(bot, ADMIN1, ABROAD, "/readgroup config reminders 2h"))
    assert "organizer" in refused.lower()
    recorder = bot.messenger
    assert isinstance(recorder, Recorder)
    assert not any(p.workspace == T2 for p, _ in recorder.posts)  # nothing published
    after = dump(bot)
    assert {t for t in before if before[t] != after.get(t)} <= {"members"}
    ok = plain(await bot.handle(_press(dg.REGENERATE, abroad, ADMIN2, ABROAD), _ignore))
    assert "Regenerated as revision 2" in ok


async def test_exports_never_guess_the_group(world: World) -> None:
    """With several groups, ``readgroup export`` says which exist and takes
    ``--group``; the export of one group holds nothing of another."""
    from bot.digest.exports import ExportError, export_month, export_week
    from bot.schedule.calendar import export_ics

    bot = world.bot
    for export in (
        lambda: export_week(bot, week=WEEK),
        lambda: export_month(bot, month=None),
    ):
        with pytest.raises(ExportError) as asked:
            await export()
        message = str(asked.value)
        assert "3 reading groups" in message and "--group" in message
        for g in world.groups.values():
            assert f"--group {g.group_id}: slack {g.place.workspace} #{g.place.channel}" in message
    with pytest.raises(LookupError) as ics_asked:
        await bot.db(export_ics)
    assert "--group" in str(ics_asked.value)

    for name, g in world.groups.items():
        md = await export_week(bot, week=WEEK, group_id=g.group_id)
        ics = (await bot.db(export_ics, group_id=g.group_id)).decode()
        assert f"Paper of #{g.place.channel}" in md and f"group-{g.group_id}@" in ics
        for other_name, other in world.groups.items():
            if other_name != name:
                assert f"Paper of #{other.place.channel}" not in md
                assert f"group-{other.group_id}@" not in ics


def group_rows(bot: Bot, group_id: int) -> dict[str, list[tuple[object, ...]]]:
    """Every row that belongs to one group: its own, those with its
    ``group_id``, and those hanging off its proposals, drafts and sessions."""
    import sqlalchemy as sa
    from sqlmodel import SQLModel

    import storage.all_tables  # noqa: F401

    tables = SQLModel.metadata.tables
    out: dict[str, list[tuple[object, ...]]] = {}
    with bot.engine.connect() as conn:
        out["groups"] = [
            tuple(r)
            for r in conn.execute(
                sa.select(tables["groups"]).where(tables["groups"].c.id == group_id)
            )
        ]
        owned = {n: t for n, t in tables.items() if "group_id" in t.c}
        for name, table in owned.items():
            out[name] = sorted(
                (
                    tuple(r)
                    for r in conn.execute(sa.select(table).where(table.c.group_id == group_id))
                ),
                key=repr,
            )
        children = {
            "votes": ("proposal_id", "proposals"),
            "digest_revisions": ("draft_id", "digest_drafts"),
            "deliveries": ("session_id", "meeting_sessions"),
            "discussion_messages": ("session_id", "meeting_sessions"),
        }
        for name, (column, parent) in children.items():
            ids = sa.select(tables[parent].c.id).where(tables[parent].c.group_id == group_id)
            table = tables[name]
            out[name] = sorted(
                (tuple(r) for r in conn.execute(sa.select(table).where(table.c[column].in_(ids)))),
                key=repr,
            )
    return out


#: One run of every command, in C0001 by T0001's admin; the arguments name the
#: other groups' papers and people where a command takes any.
SWEEP = [
    "/help",
    "/queue",
    "/history",
    "/history Paper",
    "/schedule",
    "/schedule ics",
    "/takeaways",
    "/readgroup config",
    "/rotation",
    "/withdraw 2611.00002",
    "/withdraw 2611.00003",
    "/away 2026-12-01 2026-12-14",
    "/away <@UCAROL> 2026-12-01 2026-12-14",
    "/rotation add <@UDAVE>",
    "/rotation swap <@UALICE> <@UCAROL>",
    "/rotation skip",
    "/readgroup config reminders 2h",
    "/readgroup skip 2026-12-03",
    f"/digest {WEEK.label}",
    "/present 2611.00002",
    "/propose 2611.00003 also here",
]


def test_the_sweep_runs_every_command(bot: Bot) -> None:
    assert {line.split()[0].lstrip("/") for line in SWEEP} == set(bot.router.commands)


async def test_no_command_reads_or_writes_another_group(world: World) -> None:
    bot = world.bot
    others = [g for name, g in world.groups.items() if name != "home"]
    before = {g.group_id: group_rows(bot, g.group_id) for g in others}
    for line in SWEEP:
        text = plain(await say(bot, ADMIN1, HOME, line))
        if line.startswith(("/present", "/propose")):
            continue  # the paper is shared metadata: its title may be named here
        for g in others:
            assert f"Paper of #{g.place.channel}" not in text, f"{line} showed #{g.place.channel}"
    for g in others:
        after = group_rows(bot, g.group_id)
        changed = {t for t in before[g.group_id] if before[g.group_id][t] != after[t]}
        assert not changed, f"commands in #C0001 changed #{g.place.channel}'s {changed}"
    home_rows = group_rows(bot, world.groups["home"].group_id)
    assert len(home_rows["proposals"]) == 3  # its own, and the two proposed here


async def test_buttons_also_work_in_the_groups_announcement_channel(world: World) -> None:
    """Session cards go to the announcement channel: their buttons act there,
    for that group only."""
    bot = world.bot
    home, abroad = world.groups["home"], world.groups["abroad"]
    assert "C0009" in plain(await say(bot, ADMIN1, HOME, "/readgroup config channel #C0009"))
    announce = Place("slack", T1, "C0009")
    replies = await bot.handle(_press("upvote", home, CAROL, announce), _ignore)
    assert replies and replies[0].replace and "Paper of #C0001" in plain(replies)
    sibling = world.groups["sibling"]
    for other in (sibling, abroad):
        refused = plain(await bot.handle(_press("upvote", other, CAROL, announce), _ignore))
        assert "belongs to another channel's reading group" in refused
    abroad_c0009 = Place("slack", T2, "C0009")  # the same channel id in another team
    refused = plain(await bot.handle(_press("upvote", home, DAVE, abroad_c0009), _ignore))
    assert "belongs to another channel's reading group" in refused
