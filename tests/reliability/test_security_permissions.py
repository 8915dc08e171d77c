"""Who may do what, checked for every command and button the router knows.

``COMMANDS`` and ``ACTIONS`` classify everything registered; the first test
fails when a command or action is added without being classified here (and
in README.md "Who may do what", the README table). Every operation that is
not open to every member is then tried, each on a fresh group:

* by a plain member (not the presenter, not the proposer): the answer is a
  private refusal and not one row of any table changes;
* by an organizer, and by the presenter/proposer where they may too: it
  works (the database changes, or a form opens).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel, select

import storage.all_tables  # noqa: F401 (every table in the metadata)
from bot.app import Bot
from bot.chat.events import Action, Actor, Command, Event
from bot.chat.replies import Reply, to_plain
from bot.digest import drafts
from bot.digest import weekly as dg
from bot.infra.clock import ManualClock
from bot.schedule.week_sessions import SessionInfo
from storage.groups.tables import Member
from storage.schedule.tables import MeetingSession
from tests.digest import conftest as digest_fixtures
from tests.digest.conftest import WEEK, at, seed
from tests.schedule.conftest import PLACE, Recorder, seed_paper
from tests.world_snapshot import WorldSnapshots

sessions_patch = digest_fixtures.sessions_patch  # the digest's week, without the schedule

# -- the classification (keep in step with README.md "Who may do what") -------
MEMBER = "member"  # anyone in the workspace
SELF = "member for themselves; organizer for anyone"
PROPOSER = "proposer or organizer"
PRESENTER = "presenter or organizer"
MIXED = "depends on the sub-command"
ORGANIZER = "organizer"

COMMANDS: dict[str, str] = {
    "help": MEMBER,
    "propose": MEMBER,
    "queue": MEMBER,
    "history": MEMBER,
    "schedule": MEMBER,
    "takeaways": MEMBER,
    "away": SELF,
    "withdraw": PROPOSER,
    "present": PRESENTER,
    # list/join/leave: member; add/remove others, swap: organizer; skip: presenter
    "rotation": MIXED,
    "readgroup": MIXED,  # config (show): member; config <key> <value>, skip <date>: organizer
    "digest": ORGANIZER,
}
ACTIONS: dict[str, str] = {
    "upvote": MEMBER,
    "upvote_queue": MEMBER,
    "present_pick": PRESENTER,
    dg.APPROVE: ORGANIZER,
    dg.EDIT: ORGANIZER,
    dg.EDIT_SAVE: ORGANIZER,
    dg.REGENERATE: ORGANIZER,
    dg.DISCARD: ORGANIZER,
    drafts.REGENERATE_ANYWAY: ORGANIZER,
    drafts.KEEP_EDIT: ORGANIZER,
}

OLGA = Actor("console", "olga", "Olga", is_admin=True)  # organizer (workspace admin)
ALICE = Actor("console", "alice", "Alice")  # first presenter; proposer of PAPER_A
BOB = Actor("console", "bob", "Bob")  # second presenter; proposer of PAPER_B
DAVE = Actor("console", "dave", "Dave")  # a member outside the rotation
MALLORY = Actor("console", "mallory", "Mallory")  # a plain member
PAPER_A, PAPER_B = "2601.00001", "2601.00002"


@dataclass
class World:
    bot: Bot
    draft_id: int
    proposal_b: int
    next_session_date: str


async def _no_followups(reply: Reply) -> None:
    """Follow-ups are fine; the checks look at the database and first replies."""


async def _say(bot: Bot, actor: Actor, text: str) -> list[Reply]:
    name, _, rest = text.lstrip("/").partition(" ")
    return await bot.handle(Command(name, rest, actor, PLACE), _no_followups)


@dataclass(frozen=True)
class _Built:
    draft_id: int
    proposal_b: int
    next_session_date: str
    sessions: list[SessionInfo]  # what the digest's week holds (sessions_patch)


@pytest.fixture
async def world(
    bot: Bot,
    sessions_patch: list[SessionInfo],
    world_snapshots: WorldSnapshots,
) -> World:
    """One group: a weekly meeting, alice and bob in the rotation, a proposal
    each, a week of presented papers and an open digest draft. Built once per
    process and database kind, copied for each test (tests.world_snapshot)."""
    bot.clock = ManualClock(at(WEEK))
    bot.messenger = Recorder()
    built = await world_snapshots.world("permissions", bot, lambda: _build(bot, sessions_patch))
    sessions_patch[:] = built.sessions
    return World(bot, built.draft_id, built.proposal_b, built.next_session_date)


async def _build(bot: Bot, sessions_patch: list[SessionInfo]) -> _Built:
    for who in (MALLORY, DAVE, ALICE, BOB):
        await _say(bot, who, "/queue")  # everyone has been seen once
    assert "meets every" in to_plain(
        (await _say(bot, OLGA, '/readgroup config meeting "Thu 16:00 Europe/Berlin"'))[0]
    )
    for who in (ALICE, BOB):
        await _say(bot, who, "/rotation join")
    sessions_patch.extend(seed(bot, sessions=1).sessions)

    def setup(*, session):  # type: ignore[no-untyped-def]
        from storage.groups.tables import Group

        group = session.exec(select(Group)).one()
        members = {m.user_id: m for m in session.exec(select(Member)).all()}
        now = bot.clock.now()
        seed_paper(
            session=session,
            group=group,
            member=members["alice"],
            arxiv_id=PAPER_A,
            title="Paper A",
            now=now,
        )
        b = seed_paper(
            session=session,
            group=group,
            member=members["bob"],
            arxiv_id=PAPER_B,
            title="Paper B",
            now=now,
        )
        first = session.exec(
            select(MeetingSession)
            .where(MeetingSession.starts_at > now)
            .order_by(MeetingSession.starts_at)  # type: ignore[arg-type]
        ).first()
        return b, first.starts_at.date().isoformat()

    proposal_b, next_date = await bot.db(setup)
    [reply] = await _say(bot, OLGA, f"/digest {WEEK.label}")
    draft_id = int(
        next(
            b.value
            for blk in reply.blocks
            for b in getattr(blk, "buttons", ())
            if b.action == dg.APPROVE
        ).split(":")[0]  # the value is "<draft id>:<revision>"
    )
    return _Built(draft_id, proposal_b, next_date, list(sessions_patch))


def dump(bot: Bot) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with bot.engine.connect() as conn:
        present = set(sa.inspect(conn).get_table_names())  # one catalog read, not one a table
        for table in SQLModel.metadata.sorted_tables:
            if table.name not in present:
                continue
            rows = conn.execute(sa.select(table)).all()
            out[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return out


# -- the operations that are not open to every member ---------------------------
Make = Callable[[World], Event]


def command(text: str | Callable[[World], str]) -> Callable[[Actor], Make]:
    def for_actor(actor: Actor) -> Make:
        def make(w: World) -> Event:
            line = text(w) if callable(text) else text
            name, _, rest = line.lstrip("/").partition(" ")
            return Command(name, rest, actor, PLACE)

        return make

    return for_actor


def action(kind: str, value: Callable[[World], str], **fields: str) -> Callable[[Actor], Make]:
    def for_actor(actor: Actor) -> Make:
        def make(w: World) -> Event:
            return Action(kind, value(w), actor, PLACE, fields=tuple(fields.items()))

        return make

    return for_actor


def _draft(w: World) -> str:
    return str(w.draft_id)


@dataclass(frozen=True)
class Op:
    name: str
    make: Callable[[Actor], Make]
    also_allowed: tuple[Actor, ...] = ()
    opens_form: bool = False
    #: Refused for organizers too (someone the bot has never seen can't be
    #: marked away); still refused for a plain member without a change.
    nobody_may: bool = False
    #: Changes nothing by design (e.g. "Keep my edit"): it must answer, not refuse.
    read_only: bool = False


OPS = [
    Op("readgroup config meeting", command('/readgroup config meeting "Fri 10:00 Europe/Berlin"')),
    Op("readgroup config organizers", command("/readgroup config organizers @mallory")),
    Op("readgroup config reminders", command("/readgroup config reminders 2h")),
    Op("readgroup skip", command(lambda w: f"/readgroup skip {w.next_session_date}")),
    Op("rotation add someone else", command("/rotation add @dave")),
    Op("rotation add a newcomer", command("/rotation add <@UNEW1>")),
    Op("rotation remove a newcomer", command("/rotation remove <@UNEW2>")),
    Op("away for a newcomer", command("/away <@UNEW3> 2026-12-01 2026-12-14"), nobody_may=True),
    Op("rotation remove someone else", command("/rotation remove @bob")),
    Op("rotation swap", command("/rotation swap @alice @bob")),
    Op("away for someone else", command("/away @bob 2026-12-01 2026-12-14")),
    Op("rotation skip (the next turn)", command("/rotation skip"), also_allowed=(ALICE,)),
    Op("withdraw someone else's proposal", command(f"/withdraw {PAPER_B}"), also_allowed=(BOB,)),
    Op("present for someone else's session", command(f"/present {PAPER_B}"), also_allowed=(ALICE,)),
    Op(
        "present_pick button",
        action("present_pick", lambda w: str(w.proposal_b)),
        also_allowed=(ALICE,),
    ),
    Op("digest", command(f"/digest {WEEK.label}")),
    Op("digest approve", action(dg.APPROVE, _draft)),
    Op("digest edit", action(dg.EDIT, _draft), opens_form=True),
    Op("digest save edit", action(dg.EDIT_SAVE, _draft, title="Mine now", body1="Rewritten.")),
    Op("digest regenerate", action(dg.REGENERATE, _draft)),
    Op("digest discard", action(dg.DISCARD, _draft)),
    Op("digest regenerate anyway", action(drafts.REGENERATE_ANYWAY, _draft)),
    Op("digest keep edit", action(drafts.KEEP_EDIT, _draft), read_only=True),
]


def test_every_command_and_action_is_classified(bot: Bot) -> None:
    """Add a command or button? Say here (and in the README table) who may use it."""
    assert set(bot.router.commands) == set(COMMANDS), (
        f"unclassified commands: {set(bot.chat.router.commands) - set(COMMANDS)}; "
        f"classified but gone: {set(COMMANDS) - set(bot.chat.router.commands)}"
    )
    assert set(bot.router.actions) == set(ACTIONS), (
        f"unclassified actions: {set(bot.chat.router.actions) - set(ACTIONS)}; "
        f"classified but gone: {set(ACTIONS) - set(bot.chat.router.actions)}"
    )
    restricted = {n for n, who in {**COMMANDS, **ACTIONS}.items() if who not in (MEMBER, SELF)}
    tried = {_target(op) for op in OPS}
    assert restricted <= tried, f"restricted but never tried: {restricted - tried}"
    organizer_only = {n for n, spec in bot.router.commands.items() if spec.organizer_only}
    assert organizer_only <= {n for n, who in COMMANDS.items() if who == ORGANIZER}


_FAKE_WORLD = World(bot=None, draft_id=1, proposal_b=1, next_session_date="2026-11-26")  # type: ignore[arg-type]


def _target(op: Op) -> str:
    """The command name or action kind an operation exercises."""
    event = op.make(MALLORY)(_FAKE_WORLD)
    return event.name if isinstance(event, Command) else event.kind  # type: ignore[union-attr]


async def _run(w: World, make: Make) -> list[Reply]:
    return await w.bot.handle(make(w), _no_followups)


@pytest.mark.parametrize("op", OPS, ids=[o.name for o in OPS])
async def test_a_plain_member_is_refused_privately_and_nothing_changes(
    world: World, op: Op
) -> None:
    before = dump(world.bot)
    replies = await _run(world, op.make(MALLORY))
    assert replies, f"{op.name}: no answer"
    text = "\n".join(to_plain(r) for r in replies)
    assert all(r.private for r in replies), f"{op.name}: a refusal must be private: {text}"
    assert all(r.form is None for r in replies), f"{op.name}: opened a form for a member"
    assert "organizer" in text.lower(), f"{op.name}: the refusal should say who can: {text}"
    after = dump(world.bot)
    changed = {t for t in before if before[t] != after.get(t)}
    assert not changed, f"{op.name} by a plain member changed {changed}"


_ALLOWED = [(op, who) for op in OPS if not op.nobody_may for who in (OLGA, *op.also_allowed)]


@pytest.mark.parametrize(
    ("op", "who"), _ALLOWED, ids=[f"{o.name}-by-{w.user_id}" for o, w in _ALLOWED]
)
async def test_those_allowed_succeed(world: World, op: Op, who: Actor) -> None:
    before = dump(world.bot)
    replies = await _run(world, op.make(who))
    text = "\n".join(to_plain(r) for r in replies)
    if op.opens_form:
        assert any(r.form is not None for r in replies), f"{op.name}: no form: {text}"
        return
    if op.read_only:
        assert "Only organizers" not in text and "Kept your edit" in text, text
        return
    after = dump(world.bot)
    changed = {t for t in before if before[t] != after.get(t)}
    assert changed, f"{op.name} by {who.user_id} changed nothing: {text}"
