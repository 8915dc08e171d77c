"""/propose, /queue, /withdraw, /history and the upvote buttons."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlmodel import Session

from bot.chat.events import Action, Command
from bot.chat.markup import bold, esc
from bot.chat.plural import plural
from bot.chat.replies import Buttons, Context, Header, Reply, Text, error, say
from bot.chat.router import Option, Router
from bot.groups.context import resolve, row_id, shorten, split_first
from bot.groups.members import ensure_member
from bot.infra import inbox
from bot.infra.arxiv_ref import InvalidReference, parse_ref
from bot.infra.runtime import Ctx
from bot.papers import proposals as svc
from bot.papers import propose_command
from bot.papers.cards import (
    UPVOTE,
    authors_of,
    details,
    list_line,
    paper_card,
    title_of,
    upvote_button,
)
from bot.papers.proposals import proposal_owner
from storage.papers import queries as paper_queries
from storage.papers.tables import ProposalStatus

log = logging.getLogger(__name__)

UPVOTE_IN_QUEUE = "upvote_queue"
QUEUE_SIZE = 10
#: Words /history searches for at most.
HISTORY_WORDS_MAX = 10


def register(router: Router) -> None:
    router.command(
        "propose",
        summary="Propose an arXiv paper for the group, with an optional reason.",
        example="/propose https://arxiv.org/abs/1706.03762 the transformer paper",
        options=(
            Option(
                "paper",
                "arXiv link or id, e.g. 1706.03762 (up to 5, separated by spaces)",
                required=True,
            ),
            Option("why", "Why the group should read it"),
        ),
    )(propose_command.propose)
    router.command(
        "queue",
        summary="Show open proposals by votes, then age; `/queue <paper>`: one in full.",
        example="/queue",
        options=(
            Option(
                "paper",
                "Show this proposal in full (arXiv link or id)",
                autocomplete="open_proposals",
            ),
        ),
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
    if ev.text.strip():
        return await _queue_details(ctx, ev)

    def load(*, session: Session) -> tuple[list[svc.Entry], int]:
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


async def _queue_details(ctx: Ctx, ev: Command) -> Reply:
    """`/queue <paper>`: one proposal with every proposer's whole reason."""
    bot = ctx.bot
    ref_text, rest = split_first(ev.text)
    try:
        ref = parse_ref(ref_text)
    except InvalidReference as exc:
        return error(
            f"{esc(str(exc))} `/queue` alone lists the queue; `/queue <paper>` shows one "
            "proposal in full."
        )

    def load(*, session: Session) -> svc.Entry | None:
        who = resolve(
            session=session,
            actor=ev.actor,
            place=ev.place,
            settings=bot.settings,
            now=bot.clock.now(),
        )
        assert who.group.id is not None
        return svc.find_in_group(session=session, group_id=who.group.id, arxiv_id=ref.base)

    e = await bot.db(load)
    if e is None:
        return error(
            f"`{esc(ref.base)}` is not in this group's queue. `/queue` lists open proposals."
        )
    reply = details(e)
    if rest:
        note = Context(f"`/queue` shows one paper at a time; I ignored “{esc(shorten(rest, 80))}”.")
        reply = Reply(
            blocks=(*reply.blocks, note),
            private=True,
            long_form=True,
            fallback_text=reply.fallback_text,
        )
    return reply


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

    def act(*, session: Session) -> Reply:
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
            f"Withdrew {bold(esc(title_of(e.paper)))} ({esc(authors_of(e.paper))}).",
            private=True,
        )

    return await bot.db(act)


async def history(ctx: Ctx) -> Reply:
    bot, cmd = ctx.bot, ctx.event
    assert isinstance(cmd, Command)
    given = [w for w in cmd.text.split() if w]
    # Each word adds a condition to one query; hundreds make it too complex
    # for the database (and no title needs them).
    words = given[:HISTORY_WORDS_MAX]

    def load(*, session: Session) -> tuple[list[svc.Entry], int]:
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
    cut = _words_cut_note(given, words)
    if not entries:
        if words:
            return say(
                f"No paper in this group matches “{esc(' '.join(words))}”. Try fewer or "
                f"different words, or `/history` alone for the latest papers.{cut}",
                private=True,
            )
        return say("No papers yet. Propose one with `/propose <arXiv link or id>`.", private=True)
    title = f"Papers matching “{' '.join(words)}”" if words else "The group's papers"
    # a search counts its matches up to HISTORY_POOL (see storage.papers.queries)
    pool = paper_queries.HISTORY_POOL
    count = f"{pool:,}+" if words and total > pool else f"{total:,}"
    blocks: list[object] = [Header(shorten(f"{title} ({count})", 150))]
    blocks.extend(Text(list_line(None, e)) for e in entries)
    if total > len(entries):
        ranked = f" (the most relevant of the newest {pool:,})" if words and total > pool else ""
        blocks.append(
            Context(f"Showing {len(entries)} of {count}{ranked}; add words to narrow it down.")
        )
    if cut:
        blocks.append(Context(cut.strip()))
    return Reply(blocks=tuple(blocks), private=True)  # type: ignore[arg-type]


def _words_cut_note(given: list[str], used: list[str]) -> str:
    """Say which words were left out of the search, so none vanish silently."""
    if len(given) <= len(used):
        return ""
    left = given[len(used) :]
    return (
        f"\nI searched for the first {len(used)} words only; a search takes at most "
        f"{HISTORY_WORDS_MAX}. Left out ({len(left):,} word{'s' if len(left) != 1 else ''}): "
        f"“{esc(shorten(' '.join(left), 120))}”."
    )


@dataclass(frozen=True)
class _Toggled:
    """A vote press: the proposal it counted on (None: refused, see ``problem``),
    whether the actor now votes for it, and why it went to another proposal."""

    entry: svc.Entry | None
    voted: bool = False
    problem: str = ""
    #: Set when the button's proposal was closed and the vote went to the
    #: paper's open proposal instead.
    moved: bool = False


_CLOSED = {
    ProposalStatus.SCHEDULED: "Voting is closed: this paper is already scheduled for a session.",
    ProposalStatus.PRESENTED: "Voting is closed: this paper was already presented.",
    ProposalStatus.WITHDRAWN: (
        "Voting is closed: this proposal was withdrawn. Propose the paper again with "
        "`/propose` if the group should still read it."
    ),
}


async def _toggle(ctx: Ctx) -> _Toggled:
    bot, act = ctx.bot, ctx.event
    assert isinstance(act, Action)
    proposal_id = row_id(act.value)
    if proposal_id is None:
        return _Toggled(None, problem="That button is broken; run `/queue` again.")
    now = bot.clock.now()

    def work(*, session: Session) -> _Toggled:
        e = svc.entry(session=session, proposal_id=proposal_id)
        if e is None:
            return _Toggled(
                None, problem="That proposal no longer exists. `/queue` shows the current ones."
            )
        target, moved = e.proposal, False
        if target.status != ProposalStatus.OPEN:
            # An old card of a withdrawn proposal: the paper may be open again
            # under a newer proposal, which is where the vote belongs.
            live = svc.active_proposal(
                session=session, group_id=target.group_id, paper_id=target.paper_id
            )
            if live is None or live.status != ProposalStatus.OPEN:
                status = ProposalStatus((live or target).status)
                return _Toggled(None, problem=_CLOSED.get(status, "Voting is closed."))
            target, moved = live, True
        assert target.id is not None
        member = ensure_member(
            session=session, actor=act.actor, workspace=act.place.workspace, now=now
        )
        if inbox.first_effect(session=session, item_id=ctx.request_id, now=now):
            voted = svc.toggle_vote(session=session, proposal_id=target.id, member=member, now=now)
            inbox.record_effect(session=session, item_id=ctx.request_id, effect={"voted": voted})
        else:  # pressed once, handled again after a crash: the press is counted
            voted = bool(inbox.effect(session=session, item_id=ctx.request_id).get("voted"))
        session.flush()
        return _Toggled(svc.entry(session=session, proposal_id=target.id), voted, moved=moved)

    return await bot.db(work)


def _vote_note(t: _Toggled) -> Reply:
    """The short private word after a press (the card itself updates in place)."""
    e = t.entry
    assert e is not None
    title, votes = bold(esc(title_of(e.paper))), plural(e.votes, "vote")
    if t.voted:
        said = f"Vote counted: {title} now has {votes}. Press ▲ again to take it back."
    else:
        said = f"Your vote was removed: {title} now has {votes}. Press ▲ to vote again."
    if t.moved:
        said = (
            "That card's proposal was withdrawn, but the paper is open again (proposed by "
            f"{esc(e.proposer.name or e.proposer.user_id)} on {e.proposal.created_at:%Y-%m-%d}), "
            "so your press went there. " + said
        )
    return say(said, private=True)


async def upvote_card(ctx: Ctx) -> list[Reply]:
    t = await _toggle(ctx)
    if t.entry is None:
        return [error(t.problem)]
    card = paper_card(t.entry)
    return [
        Reply(blocks=card.blocks, replace=True, tag=card.tag, fallback_text=card.fallback_text),
        _vote_note(t),
    ]


async def upvote_queue(ctx: Ctx) -> list[Reply]:
    t = await _toggle(ctx)
    if t.entry is None:
        return [error(t.problem)]
    e = t.entry
    entries, total = await ctx.bot.db(svc.queue, group_id=e.proposal.group_id, limit=QUEUE_SIZE)
    q = _queue_reply(entries, total)
    return [Reply(blocks=q.blocks, replace=True, tag=q.tag), _vote_note(t)]
