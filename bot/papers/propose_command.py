"""/propose: save each paper first, then fetch it, then answer once.

One paper answers as it always did (its public card, or a private word when
it is a duplicate, unknown, or arXiv is down). Several papers in one command
get their cards plus one private reply listing what happened to each. Notes
about the input itself (a reason cut to the limit, papers over the limit,
repeats, words that are not arXiv ids) are always said, never dropped.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from bot.chat.events import Command, Event
from bot.chat.markup import bold, esc
from bot.chat.plural import plural
from bot.chat.replies import Reply, error, say
from bot.groups.context import resolve, shorten
from bot.infra import inbox
from bot.infra.arxiv_ref import ArxivId, parse_ref
from bot.infra.runtime import Ctx, Runtime
from bot.papers import fetch
from bot.papers import proposals as svc
from bot.papers.cards import paper_card, title_of
from bot.papers.fetch import Outcome, fetch_paper, post_pending_cards, waiting_handlers
from bot.papers.propose_text import PAPERS_MAX, REASON_MAX, ProposeText, parse_propose_text
from storage.papers.tables import ProposalStatus

log = logging.getLogger(__name__)

USAGE = (
    "Tell me which paper: `/propose <arXiv link or id> [why]`, for example "
    "`/propose 1706.03762 the transformer paper`."
)


def kept(text: str) -> str:
    """Echo what the user typed so nothing they wrote is lost to an error."""
    return f"\nYou wrote: `/{esc(shorten(text, 300))}`" if text.strip() else ""


@dataclass
class _Done:
    """One paper's result: a public card and/or a line for the user."""

    ref: ArxivId
    card: Reply | None = None
    line: str = ""
    #: The whole private answer when it is the only paper.
    alone: Reply | None = None


def expect_lookups(bot: Runtime, event: Event, request_id: int) -> None:
    """An adapter accepted ``event`` (stored as ``request_id``) and is about to
    acknowledge it: if it is a /propose naming papers, tell the arXiv client a
    look-up is on its way, so a request about to start waits the few ms until
    the handler has saved the proposal and asked (see ArxivClient.expect).
    The handler says it has asked (or will not) by the end of its fetches."""
    if not isinstance(event, Command) or event.name != "propose":
        return
    if parse_propose_text(event.text).papers:
        bot.arxiv.expect(_expected_key(request_id))


def _expected_key(request_id: int | None) -> tuple[str, int | None]:
    return ("propose", request_id)


async def propose(ctx: Ctx) -> Reply | list[Reply]:
    try:
        return await _propose(ctx)
    finally:  # whatever happened, nothing more is coming from this command
        ctx.bot.arxiv.expected_done(_expected_key(ctx.request_id))


async def _propose(ctx: Ctx) -> Reply | list[Reply]:
    cmd = ctx.event
    assert isinstance(cmd, Command)
    if not cmd.text.strip():
        return error(USAGE)
    args = parse_propose_text(cmd.text)
    if not args.papers:
        if args.bad:
            problems = " ".join(esc(str(b)) for b in args.bad[:3])
        else:
            first = cmd.text.split()[0]
            try:
                parse_ref(first)
                problems = esc(USAGE)  # pragma: no cover - a valid first word is a paper
            except Exception as exc:
                problems = esc(str(exc))
        return error(f"{problems}{kept('propose ' + cmd.text)}")
    bot = ctx.bot
    now = bot.clock.now()

    def save(*, session: Session) -> list[svc.ProposeResult]:
        who = resolve(
            session=session, actor=cmd.actor, place=cmd.place, settings=bot.settings, now=now
        )
        if not inbox.first_effect(session=session, item_id=ctx.request_id, now=now):
            # Handled before a crash: the proposals are saved; answer as then.
            again = _results_of(session, inbox.effect(session=session, item_id=ctx.request_id))
            if again is not None:
                return again
        results = [
            svc.propose(
                session=session,
                group=who.group,
                member=who.member,
                arxiv_id=ref.base,
                why=args.why,
                now=now,
            )
            for _typed, ref in args.papers
        ]
        inbox.record_effect(
            session=session,
            item_id=ctx.request_id,
            effect={
                "proposals": [
                    {
                        "proposal_id": r.proposal.id,
                        "duplicate": r.duplicate,
                        "vote_added": r.vote_added,
                        "reason": r.reason,
                    }
                    for r in results
                ]
            },
        )
        return results

    results: list[svc.ProposeResult] = await bot.db(save)
    done = await _settle(ctx, [ref for _t, ref in args.papers], results, cmd.text)
    replies = [d.card for d in done if d.card is not None]
    notes = _input_notes(args)
    if len(done) == 1:
        alone = done[0].alone
        if alone is None:
            return [*replies, *([say(notes.strip(), private=True)] if notes else [])]
        if notes:
            alone = Reply(blocks=(*alone.blocks, *say(notes.strip()).blocks), private=True)
        return [*replies, alone]
    lines = "\n".join(f"• {d.line}" for d in done)
    head = f"You proposed {len(done)} papers:"
    return [*replies, say(f"{head}\n{lines}{notes}", private=True)]


async def _settle(
    ctx: Ctx, refs: list[ArxivId], results: list[svc.ProposeResult], text: str
) -> list[_Done]:
    """Fetch what is pending (together: one batched arXiv request), then say
    what happened to each paper."""
    bot = ctx.bot
    tasks: dict[int, asyncio.Task[Outcome]] = {}
    waiting = waiting_handlers(bot)
    for ref, r in zip(refs, results, strict=True):
        assert r.proposal.id is not None and r.paper.id is not None
        if not r.duplicate and r.paper.status != "ready":
            waiting.add(r.proposal.id)
            tasks[r.proposal.id] = fetch_paper(bot, r.paper.id, ref.base)
    # Its look-ups are asked (the fetch tasks run before the arXiv worker
    # wakes for this): a cut waiting for them may go.
    bot.arxiv.expected_done(_expected_key(ctx.request_id))
    try:
        if tasks:
            async with bot.slots.given_up():  # waiting for arXiv takes no slot
                await asyncio.wait(
                    [asyncio.shield(t) for t in tasks.values()], timeout=fetch.ARXIV_WAIT_SECONDS
                )
    finally:
        waiting.difference_update(tasks)
    done: list[_Done] = []
    for ref, r in zip(refs, results, strict=True):
        assert r.proposal.id is not None
        task = tasks.get(r.proposal.id)
        if r.duplicate:
            done.append(_duplicate(ref, r))
            continue
        if task is None:  # known already: its card goes out with this answer
            card, e = await _card(ctx, r.proposal.id)
            line = _posted(e) if e is not None else f"`arXiv:{esc(ref.base)}`: proposed."
            done.append(_Done(ref, card=card, line=line))
            continue
        outcome = task.result() if task.done() else None
        done.append(await _new(ctx, ref, r, outcome, task, text))
    return done


def _posted(e: svc.Entry) -> str:
    return f"{bold(esc(title_of(e.paper)))}: proposed; its card is posted."


async def _new(
    ctx: Ctx,
    ref: ArxivId,
    r: svc.ProposeResult,
    outcome: Outcome | None,
    task: asyncio.Task[Outcome] | None,
    text: str,
) -> _Done:
    bot = ctx.bot
    assert r.proposal.id is not None and r.paper.id is not None
    aid = f"`arXiv:{esc(ref.base)}`"
    if outcome is Outcome.READY:
        card, e = await _card(ctx, r.proposal.id)
        if card is not None and e is not None:
            return _Done(ref, card=card, line=_posted(e))
        # The retry loop got there first and posted the card.
        return _Done(ref, line=f"{aid}: proposed; its card is posted.")
    if outcome is Outcome.NOT_FOUND:
        message = (
            f"arXiv has no paper `{esc(ref.base)}`. Check the id on arxiv.org "
            "(new ids look like `2401.01234`, old ones like `hep-th/9901001`) and propose again."
        )
        return _Done(
            ref,
            line=f"{aid}: arXiv has no such paper, so it was not kept. Check the id on arxiv.org.",
            alone=error(message + kept("propose " + text)),
        )
    if outcome is Outcome.INVALID:
        message = (
            f"arXiv says `{esc(ref.base)}` is not a valid arXiv id. Use a link like "
            "`https://arxiv.org/abs/1706.03762` or an id like `1706.03762`."
        )
        return _Done(
            ref,
            line=f"{aid}: arXiv says this is not a valid id, so it was not kept.",
            alone=error(message + kept("propose " + text)),
        )
    # Slow, down or unreachable: the proposal is saved; the card follows.
    await bot.db(svc.release_card, proposal_id=r.proposal.id, now=bot.clock.now())
    if outcome is None and task is not None:
        bot.spawn(_post_when_done(ctx, task, r.paper.id), name=f"card:{ref.base}")
    state = {
        None: "arXiv is slow right now",
        Outcome.UNREACHABLE: "I can't reach arXiv right now",
    }.get(outcome, "arXiv is not answering right now")
    return _Done(
        ref,
        line=f"{aid}: saved; {state}, so its card follows here when arXiv answers.",
        alone=say(
            f"Saved your proposal of {aid}. {state[0].upper()}{state[1:]}, so I'll keep "
            "trying, fill in the title and post the card here as soon as it answers. "
            "Nothing else to do.",
            private=True,
        ),
    )


async def _card(ctx: Ctx, proposal_id: int) -> tuple[Reply | None, svc.Entry | None]:
    """The proposal's card for this answer, if this handler gets to post it
    (see :mod:`bot.papers.card_delivery`): None if someone else has or had it."""
    bot = ctx.bot
    now = bot.clock.now()

    def take(*, session: Session) -> tuple[bool, svc.Entry | None]:
        # One transaction: a batch of cards must not queue three each.
        claimed = svc.claim_card(
            session=session, proposal_id=proposal_id, now=now, lease=bot.lease, first=True
        )
        e = svc.entry(session=session, proposal_id=proposal_id)
        if claimed and e is not None and ctx.request_id is None:
            # Nobody reports the delivery back: count the card posted now.
            svc.card_posted(session=session, proposal_id=proposal_id)
        return claimed, e

    claimed, e = await bot.db(take)
    if not claimed or e is None:
        return None, e if not claimed else None
    return paper_card(e), e


def _results_of(session: Session, done: dict[str, Any]) -> list[svc.ProposeResult] | None:
    """The results a first run recorded (see :mod:`bot.infra.inbox`), read
    back for a run after a crash; None if any proposal is gone."""
    results = []
    for item in done.get("proposals") or []:
        e = svc.entry(session=session, proposal_id=int(item["proposal_id"]))
        if e is None:
            return None
        results.append(
            svc.ProposeResult(
                e.proposal,
                e.paper,
                e.proposer,
                bool(item["duplicate"]),
                bool(item["vote_added"]),
                e.votes,
                str(item.get("reason") or ""),
            )
        )
    return results or None


async def _post_when_done(ctx: Ctx, task: asyncio.Task[Outcome], paper_id: int) -> None:
    outcome = await task
    if outcome is Outcome.READY:
        await post_pending_cards(ctx.bot, paper_id)


_REASON_SAID = {
    "kept": " I kept your reason with it.",
    "replaced": " I replaced your earlier reason with this one.",
}


def _duplicate(ref: ArxivId, result: svc.ProposeResult) -> _Done:
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
        tail = f" I counted your vote: it now has {plural(result.votes, 'vote')}."
    else:
        tail = f" You have already voted for it ({plural(result.votes, 'vote')})."
    tail += _REASON_SAID.get(result.reason, "")
    return _Done(ref, line=head + tail, alone=say(head + tail, private=True))


def _input_notes(args: ProposeText) -> str:
    """What of the input was not used as given, each on its own line."""
    notes: list[str] = []
    if args.over_limit:
        notes.append(
            f"One /propose takes at most {PAPERS_MAX} papers, so I proposed the first "
            f"{PAPERS_MAX} and not {', '.join(f'`{esc(t)}`' for t in args.over_limit)}: "
            "propose those with another `/propose`."
        )
    if args.repeated:
        notes.append(
            f"You listed {', '.join(f'`{esc(t)}`' for t in args.repeated)} more than once; "
            "it counts once."
        )
    for bad in args.bad:
        notes.append(f"Not proposed: {esc(str(bad))}")
    if args.why_cut:
        notes.append(
            f"Your reason is {plural(args.why_length, 'character')} long; a reason keeps at "
            f"most {REASON_MAX:,}, so I saved the first {len(args.why):,} and left out the "
            f"rest, which starts “{esc(shorten(args.why_cut, 80))}”. "
            "Shorten it if the end matters."
        )
    return "".join(f"\n{n}" for n in notes)
