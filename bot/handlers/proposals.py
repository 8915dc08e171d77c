"""/propose, /queue, /withdraw, /history and the upvote buttons."""

from __future__ import annotations

import asyncio
import logging

from bot.arxiv_ref import InvalidReference, parse_ref
from bot.cards import UPVOTE, list_line, paper_card, short_authors, title_of, upvote_button
from bot.events import Action, Command
from bot.handlers.common import resolve, row_id, shorten, split_first
from bot.markup import bold, esc
from bot.paper_fetch import Outcome, fetch_paper, waiting_handlers
from bot.places import proposal_owner
from bot.replies import Buttons, Context, Header, Reply, Text, error, say
from bot.router import Ctx, Option, Router
from bot.services import proposals as svc
from bot.services.groups import ensure_member
from storage.tables import ProposalStatus

log = logging.getLogger(__name__)

UPVOTE_IN_QUEUE = "upvote_queue"
QUEUE_SIZE = 10
#: How long /propose waits for arXiv before saying the card will follow.
FETCH_WAIT_SECONDS = 8.0


def _kept(text: str) -> str:
    """Echo what the user typed so nothing they wrote is lost to an error."""
    return f"\nYou wrote: `/{esc(shorten(text, 300))}`" if text.strip() else ""


def register(router: Router) -> None:
    router.command(
        "propose",
        summary="Propose an arXiv paper for the group, with an optional reason.",
        example="/propose https://arxiv.org/abs/1706.03762 the transformer paper",
        options=(
            Option("paper", "arXiv link or id, e.g. 1706.03762", required=True),
            Option("why", "Why the group should read it"),
        ),
    )(propose)
    router.command(
        "queue",
        summary="Show open proposals ranked by votes, then age.",
        example="/queue",
    )(show_queue)
    router.command(
        "withdraw",
        summary="Withdraw a proposal (its proposer or an organizer).",
        example="/withdraw 1706.03762",
        options=(
            Option("paper", "arXiv link or id", required=True, autocomplete="open_proposals"),
        ),
    )(withdraw)
    router.command(
        "history",
        summary="Search the group's papers by words in title, authors or abstract.",
        example="/history attention",
        options=(Option("words", "Words to look for"),),
    )(history)
    router.action(UPVOTE, owner=proposal_owner)(upvote_card)
    router.action(UPVOTE_IN_QUEUE, owner=proposal_owner)(upvote_queue)


async def propose(ctx: Ctx) -> Reply | list[Reply]:
    cmd = ctx.event
    assert isinstance(cmd, Command)
    ref_text, why = split_first(cmd.text)
    if not ref_text:
        return error(
            "Tell me which paper: `/propose <arXiv link or id> [why]`, for example "
            "`/propose 1706.03762 the transformer paper`."
        )
    try:
        ref = parse_ref(ref_text)
    except InvalidReference as exc:
        return error(f"{esc(str(exc))}{_kept('propose ' + cmd.text)}")
    bot = ctx.bot
    now = bot.clock.now()

    def save(*, session):  # type: ignore[no-untyped-def]
        who = resolve(
            session=session, actor=cmd.actor, place=cmd.place, settings=bot.settings, now=now
        )
        return svc.propose(
            session=session,
            group=who.group,
            member=who.member,
            arxiv_id=ref.base,
            why=why,
            now=now,
        )

    result = await bot.db(save)
    assert result.proposal.id is not None and result.paper.id is not None
    if result.duplicate:
        return _duplicate_answer(ctx, result)
    if result.paper.status == "ready":
        await bot.db(svc.claim_card, proposal_id=result.proposal.id)
        e = await bot.db(svc.entry, proposal_id=result.proposal.id)
        assert e is not None
        return paper_card(e)
    waiting = waiting_handlers(bot)
    waiting.add(result.proposal.id)
    task = fetch_paper(bot, result.paper.id, ref.base)
    try:
        outcome = await asyncio.wait_for(asyncio.shield(task), FETCH_WAIT_SECONDS)
    except TimeoutError:
        outcome = None
    finally:
        waiting.discard(result.proposal.id)
    if outcome is Outcome.READY:
        if await bot.db(svc.claim_card, proposal_id=result.proposal.id):
            e = await bot.db(svc.entry, proposal_id=result.proposal.id)
            if e is not None:
                return paper_card(e)
        return []  # the retry loop got there first and posted the card
    if outcome is Outcome.NOT_FOUND:
        return error(
            f"arXiv has no paper `{esc(ref.base)}`. Check the id on arxiv.org "
            "(new ids look like `2401.01234`, old ones like `hep-th/9901001`) and propose again."
            f"{_kept('propose ' + cmd.text)}"
        )
    if outcome is Outcome.INVALID:
        return error(
            f"arXiv says `{esc(ref_text)}` is not a valid arXiv id. Use a link like "
            "`https://arxiv.org/abs/1706.03762` or an id like `1706.03762`."
            f"{_kept('propose ' + cmd.text)}"
        )
    # Unavailable or slow: the proposal is saved; the card follows from the retry loop.
    if outcome is None:
        bot.spawn(_post_when_done(ctx, task, result.paper.id), name=f"card:{ref.base}")
    return say(
        f"Saved your proposal of `arXiv:{esc(ref.base)}`. arXiv is "
        f"{'slow' if outcome is None else 'not answering'} right now, so I'll fill in the "
        "title and post the card here as soon as it answers. Nothing else to do.",
        private=True,
    )


async def _post_when_done(ctx: Ctx, task: asyncio.Task[Outcome], paper_id: int) -> None:
    from bot.paper_fetch import post_pending_cards

    outcome = await task
    if outcome is Outcome.READY:
        await post_pending_cards(ctx.bot, paper_id)


def _duplicate_answer(ctx: Ctx, result: svc.ProposeResult) -> Reply:
    p, paper = result.proposal, result.paper
    who = esc(result.proposer.name or result.proposer.user_id)
    when = p.created_at.strftime("%Y-%m-%d")
    title = bold(esc(title_of(paper)))
    if p.status == ProposalStatus.PRESENTED:
        presented = p.presented_at.strftime("%Y-%m-%d") if p.presented_at else "earlier"
        head = f"{title} was already presented on {presented} (proposed by {who} on {when})."
    elif p.status == ProposalStatus.SCHEDULED:
        head = f"{title} is already scheduled (proposed by {who} on {when})."
    else:
        head = f"{title} was already proposed by {who} on {when}."
    if result.vote_added:
        tail = f" I counted your vote: it now has {result.votes}."
    else:
        tail = f" You already vote for it ({result.votes} vote{'s' if result.votes != 1 else ''})."
    return say(head + tail, private=True)


def _queue_reply(entries: list[svc.Entry], total: int) -> Reply:
    if not entries:
        return say("The queue is empty. Propose a paper with `/propose <arXiv link or id> [why]`.")
    blocks: list[object] = [
        Header(f"Reading queue: {total} open proposal{'s' if total != 1 else ''}")
    ]
    for rank, e in enumerate(entries, start=1):
        blocks.append(Text(list_line(rank, e)))
        b = upvote_button(e)
        blocks.append(Buttons((type(b)(b.label, UPVOTE_IN_QUEUE, b.value, b.style),)))
    if total > len(entries):
        blocks.append(Context(f"…and {total - len(entries)} more. Ranked by votes, then age."))
    else:
        blocks.append(Context("Ranked by votes, then age. Press ▲ to vote; press again to undo."))
    return Reply(blocks=tuple(blocks), tag="queue")  # type: ignore[arg-type]


async def show_queue(ctx: Ctx) -> Reply:
    bot, ev = ctx.bot, ctx.event
    assert isinstance(ev, Command)

    def load(*, session):  # type: ignore[no-untyped-def]
        who = resolve(
            session=session,
            actor=ev.actor,
            place=ev.place,
            settings=bot.settings,
            now=bot.clock.now(),
        )
        assert who.group.id is not None
        return svc.queue(session=session, group_id=who.group.id, limit=QUEUE_SIZE)

    entries, total = await bot.db(load)
    return _queue_reply(entries, total)


async def withdraw(ctx: Ctx) -> Reply:
    bot, cmd = ctx.bot, ctx.event
    assert isinstance(cmd, Command)
    ref_text, _ = split_first(cmd.text)
    if not ref_text:
        return error(
            "Which paper? `/withdraw <arXiv link or id>`, for example `/withdraw 1706.03762`."
        )
    try:
        ref = parse_ref(ref_text)
    except InvalidReference as exc:
        return error(esc(str(exc)))
    now = bot.clock.now()

    def act(*, session):  # type: ignore[no-untyped-def]
        who = resolve(
            session=session, actor=cmd.actor, place=cmd.place, settings=bot.settings, now=now
        )
        assert who.group.id is not None
        e = svc.find_in_group(session=session, group_id=who.group.id, arxiv_id=ref.base)
        if e is None:
            return error(
                f"`{esc(ref.base)}` is not in this group's queue. `/queue` lists open proposals."
            )
        if e.proposal.member_id != who.member.id and not who.organizer:
            return error(
                f"Only {esc(e.proposer.name or e.proposer.user_id)}, who proposed it, or an "
                "organizer can withdraw this paper."
            )
        if e.proposal.status != ProposalStatus.OPEN:
            return error(
                f"{bold(esc(title_of(e.paper)))} is already {e.proposal.status}, so it can't be "
                "withdrawn. An organizer can change the session's paper with `/present`."
            )
        svc.withdraw(session=session, proposal=e.proposal, now=now)
        return say(
            f"Withdrew {bold(esc(title_of(e.paper)))} ({esc(short_authors(e.paper.authors))}).",
            private=True,
        )

    return await bot.db(act)


async def history(ctx: Ctx) -> Reply:
    bot, cmd = ctx.bot, ctx.event
    assert isinstance(cmd, Command)
    words = [w for w in cmd.text.split() if w]

    def load(*, session):  # type: ignore[no-untyped-def]
        who = resolve(
            session=session,
            actor=cmd.actor,
            place=cmd.place,
            settings=bot.settings,
            now=bot.clock.now(),
        )
        assert who.group.id is not None
        return svc.history(session=session, group_id=who.group.id, words=words, limit=10)

    entries, total = await bot.db(load)
    if not entries:
        if words:
            return say(
                f"No paper in this group matches “{esc(' '.join(words))}”. Try fewer or "
                "different words, or `/history` alone for the latest papers.",
                private=True,
            )
        return say("No papers yet. Propose one with `/propose <arXiv link or id>`.", private=True)
    title = f"Papers matching “{' '.join(words)}”" if words else "The group's papers"
    blocks: list[object] = [Header(shorten(f"{title} ({total})", 150))]
    blocks.extend(Text(list_line(None, e)) for e in entries)
    if total > len(entries):
        blocks.append(Context(f"Showing {len(entries)} of {total}; add words to narrow it down."))
    return Reply(blocks=tuple(blocks), private=True)  # type: ignore[arg-type]


async def _toggle(ctx: Ctx) -> tuple[svc.Entry | None, bool, str]:
    bot, act = ctx.bot, ctx.event
    assert isinstance(act, Action)
    proposal_id = row_id(act.value)
    if proposal_id is None:
        return None, False, "That button is broken; run `/queue` again."
    now = bot.clock.now()

    def work(*, session):  # type: ignore[no-untyped-def]
        e = svc.entry(session=session, proposal_id=proposal_id)
        if e is None:
            return None, False, "That proposal no longer exists. `/queue` shows the current ones."
        if e.proposal.status != ProposalStatus.OPEN:
            return e, False, f"Voting is closed: this paper is {e.proposal.status}."
        member = ensure_member(
            session=session, actor=act.actor, workspace=act.place.workspace, now=now
        )
        voted = svc.toggle_vote(session=session, proposal_id=proposal_id, member=member, now=now)
        session.flush()
        return svc.entry(session=session, proposal_id=proposal_id), voted, ""

    return await bot.db(work)


async def upvote_card(ctx: Ctx) -> list[Reply]:
    e, _voted, problem = await _toggle(ctx)
    if problem:
        return [error(problem)]
    assert e is not None
    card = paper_card(e)
    return [Reply(blocks=card.blocks, replace=True, tag=card.tag, fallback_text=card.fallback_text)]


async def upvote_queue(ctx: Ctx) -> list[Reply]:
    e, _voted, problem = await _toggle(ctx)
    if problem:
        return [error(problem)]
    assert e is not None
    entries, total = await ctx.bot.db(svc.queue, group_id=e.proposal.group_id, limit=QUEUE_SIZE)
    q = _queue_reply(entries, total)
    return [Reply(blocks=q.blocks, replace=True, tag=q.tag)]
