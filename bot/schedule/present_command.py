"""``/present`` and the ``present_pick`` button of the presenter nudge:
put a paper on the actor's next session, then post its card with a
discussion thread (see :mod:`bot.schedule.session_card`)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.chat.events import Action, Command
from bot.chat.markup import bold, esc
from bot.chat.replies import Reply, error, say
from bot.chat.router import Option, Router
from bot.groups.context import Who, row_id, split_first
from bot.groups.members import ensure_member, is_organizer
from bot.infra.arxiv_ref import InvalidReference, parse_ref
from bot.infra.runtime import Ctx
from bot.papers import proposals as proposals_svc
from bot.papers.cards import title_of
from bot.papers.fetch import ARXIV_WAIT_SECONDS, fetch_paper
from bot.papers.proposals import proposal_owner
from bot.schedule import meetings as sched
from bot.schedule import present_check, rotation, session_card
from bot.schedule.command_context import (
    NO_MEETING,
    group_id_of,
    in_group,
    name_or_nobody,
)
from bot.schedule.reminders import PRESENT_PICK, refresh_group, when_text
from bot.schedule.scheduler import changed
from storage.groups.tables import Group, Member
from storage.papers.tables import Proposal, ProposalStatus
from storage.schedule.tables import MeetingSession

log = logging.getLogger(__name__)


def register(router: Router) -> None:
    router.command(
        "present",
        summary="Pick the paper for your next session (presenter or organizer).",
        example="/present 1706.03762",
        options=(
            Option(
                "paper",
                "arXiv link or id, from the queue or new",
                required=True,
                autocomplete="open_proposals",
            ),
        ),
    )(present)
    # the nudge is a direct message: the button may be pressed there too
    router.action(PRESENT_PICK, owner=proposal_owner, direct=True)(present_pick)


def _target_session(session: Session, who: Who, now: datetime) -> MeetingSession | str:
    """The session the actor may choose a paper for, or why not."""
    gid = group_id_of(who)
    cfg = sched.get_settings(session=session, group_id=gid, now=now)
    if sched.rule_of(cfg) is None:
        return NO_MEETING
    refresh_group(session=session, group_id=gid, now=now)
    assert who.member.id is not None
    mine = rotation.next_session_of(session=session, group_id=gid, member_id=who.member.id, now=now)
    if mine is not None:
        return mine
    nxt = sched.upcoming(session=session, group_id=gid, now=now, limit=1)
    if not nxt:
        return "There is no upcoming session. `/schedule` shows the plan."
    if who.organizer:
        return nxt[0]
    presenter = (
        session.get(Member, nxt[0].presenter_member_id) if nxt[0].presenter_member_id else None
    )
    return (
        f"You're not presenting soon. The next session ({when_text(nxt[0], cfg)}) is "
        f"{name_or_nobody(presenter)}'s to choose; organizers can choose for anyone."
    )


def _choose(
    *,
    session: Session,
    who: Who,
    now: datetime,
    arxiv_id: str = "",
    why: str = "",
    proposal_id: int | None = None,
) -> Chosen | Reply:
    """Put a paper (queued, or new by reference) on the actor's next session."""
    target = _target_session(session, who, now)
    if isinstance(target, str):
        return error(target)
    gid = group_id_of(who)
    if proposal_id is not None:
        e = proposals_svc.entry(session=session, proposal_id=proposal_id)
        if e is None or e.proposal.group_id != gid:
            return error("That paper is no longer in the queue. `/queue` shows the current ones.")
    else:
        e = proposals_svc.find_in_group(session=session, group_id=gid, arxiv_id=arxiv_id)
        if e is None:
            result = proposals_svc.propose(
                session=session,
                group=who.group,
                member=who.member,
                arxiv_id=arxiv_id,
                why=why,
                now=now,
            )
            assert result.proposal.id is not None
            e = proposals_svc.entry(session=session, proposal_id=result.proposal.id)
            assert e is not None
    proposal = e.proposal
    if proposal.status == ProposalStatus.PRESENTED:
        when = proposal.presented_at.strftime("%Y-%m-%d") if proposal.presented_at else "earlier"
        return error(
            f"{bold(esc(title_of(e.paper)))} was already presented ({when}). "
            "Pick another from `/queue`."
        )
    if proposal.status == ProposalStatus.WITHDRAWN:
        return error("That proposal was withdrawn. Propose it again with `/propose`.")
    cfg = sched.get_settings(session=session, group_id=gid, now=now)
    assert target.id is not None and proposal.id is not None
    again = target.proposal_id == proposal.id  # e.g. the pick deadline gave it already
    if proposal.status == ProposalStatus.SCHEDULED and not again:
        return error(
            session_card.scheduled_elsewhere(
                session=session,
                proposal_id=proposal.id,
                title=title_of(e.paper),
                target=when_text(target, cfg),
            )
        )
    if not again:
        by = "presenter" if target.presenter_member_id == who.member.id else "organizer"
        sched.assign_paper(session=session, meeting=target, proposal=proposal, by=by, now=now)
    return Chosen(
        session_id=target.id,
        when=when_text(target, cfg),
        title=title_of(e.paper),
        paper_id=e.paper.id or 0,
        arxiv_id=e.paper.arxiv_id,
        pending=e.paper.status != "ready",
        again=again,
        has_thread=target.thread_id is not None,
    )


@dataclass(frozen=True)
class Chosen:
    session_id: int
    when: str
    title: str
    paper_id: int
    arxiv_id: str
    pending: bool
    #: the paper was already the session's: nothing changes (the card may be owed)
    again: bool = False
    has_thread: bool = False


async def present(ctx: Ctx) -> Reply | list[Reply]:
    cmd = ctx.event
    assert isinstance(cmd, Command)
    ref_text, why = split_first(cmd.text)
    if not ref_text:
        return error(
            "Which paper? `/present <arXiv link or id>`, e.g. `/present 1706.03762`; "
            "`/queue` lists the proposals."
        )
    try:
        ref = parse_ref(ref_text)
    except InvalidReference as exc:
        return error(f"{esc(str(exc))} Example: `/present 1706.03762`.")
    missing = await present_check.refuse_missing(ctx, ref.base)
    if missing is not None:
        return missing
    result = await in_group(ctx, _choose, arxiv_id=ref.base, why=why)
    if isinstance(result, Reply):
        return result
    return await _after_choice(ctx, result)


async def present_pick(ctx: Ctx) -> Reply | list[Reply]:
    """The nudge's "Present #n" button. It arrives from a direct message, so
    the group is the proposal's, not the place's."""
    bot, act = ctx.bot, ctx.event
    assert isinstance(act, Action)
    proposal_id = row_id(act.value)
    if proposal_id is None:
        return error("That button is broken; use `/present <arXiv link or id>` instead.")
    now = bot.clock.now()

    def work(*, session: Session) -> Chosen | Reply:
        proposal = session.get(Proposal, proposal_id)
        group = session.get(Group, proposal.group_id) if proposal is not None else None
        if proposal is None or group is None:
            return error("That paper is no longer in the queue. `/queue` shows the current ones.")
        member = ensure_member(session=session, actor=act.actor, workspace=group.workspace, now=now)
        organizer = is_organizer(
            actor=act.actor,
            group=group,
            configured=bot.settings.organizers,
            workspace=act.place.workspace,
        )
        return _choose(
            session=session, who=Who(group, member, organizer), now=now, proposal_id=proposal_id
        )

    result = await bot.db(work)
    if isinstance(result, Reply):
        return result
    replies = await _after_choice(ctx, result)
    return [Reply(blocks=r.blocks, replace=True, fallback_text=r.fallback_text) for r in replies]


async def _after_choice(ctx: Ctx, chosen: Chosen) -> list[Reply]:
    """Fetch a new paper's metadata, then post its card in the channel and open
    the session's discussion thread on it (see :mod:`bot.schedule.session_card`)."""
    bot = ctx.bot
    changed(bot)
    lead = (
        session_card.already_text(chosen.title, chosen.when)
        if chosen.again
        else f"{bold(esc(chosen.title))} is the paper for {esc(chosen.when)}."
    )
    if chosen.again and chosen.has_thread:
        return [say(f"{lead} Its discussion is in the paper's thread.", private=True)]
    if chosen.pending:
        task = fetch_paper(bot, chosen.paper_id, chosen.arxiv_id)
        try:
            await asyncio.wait_for(asyncio.shield(task), ARXIV_WAIT_SECONDS)
        except Exception:  # slow or down: the card shows the id; arXiv fills in later
            log.info("arXiv slow for %s; announcing the paper with its id", chosen.arxiv_id)
    posted = await session_card.post_card(bot, session_id=chosen.session_id)
    if posted is None:
        return [say(f"The paper for {esc(chosen.when)} is chosen.", private=True)]
    if not posted.in_channel:
        return [posted.card]  # shown here instead; the channel reminder opens the thread later
    return [
        say(
            f"{lead} I posted its card in the channel with a thread for the discussion.",
            private=True,
        )
    ]
