"""Paper cards and list lines: how a paper looks in a reply."""

from __future__ import annotations

from datetime import datetime

from bot.clock import as_utc
from bot.markup import bold, esc, link
from bot.replies import Button, Buttons, Context, Reply, Text
from bot.services.proposals import Entry
from storage.tables import Paper, PaperStatus, ProposalStatus

UPVOTE = "upvote"
WITHDRAW = "withdraw"
ABSTRACT_PREVIEW = 600


def abs_url(paper: Paper) -> str:
    return f"https://arxiv.org/abs/{paper.arxiv_id}"


def short_authors(authors: list[str], keep: int = 3) -> str:
    if not authors:
        return "unknown authors"
    if len(authors) <= keep:
        return ", ".join(authors)
    return f"{', '.join(authors[:keep])} et al."


def day(when: datetime | None) -> str:
    return as_utc(when).strftime("%Y-%m-%d") if when else "?"


def title_of(paper: Paper) -> str:
    return paper.title or f"arXiv:{paper.arxiv_id}"


def upvote_button(e: Entry) -> Button:
    assert e.proposal.id is not None
    return Button(f"▲ Upvote ({e.votes})", UPVOTE, str(e.proposal.id), "primary")


def paper_card(e: Entry, *, note: str = "") -> Reply:
    """The public card for a proposal: title linked to arXiv, authors, the
    abstract's start, who proposed it and why, and an upvote button."""
    paper = e.paper
    blocks: list[object] = []
    if note:
        blocks.append(Text(note))
    if paper.status != PaperStatus.READY:
        blocks.append(
            Text(
                f"{bold(link('arXiv:' + paper.arxiv_id, abs_url(paper)))}\n"
                "_Title and abstract will appear once arXiv answers._"
            )
        )
    else:
        abstract = paper.abstract
        if len(abstract) > ABSTRACT_PREVIEW:
            abstract = abstract[:ABSTRACT_PREVIEW].rsplit(" ", 1)[0] + " …"
        blocks.append(
            Text(
                f"{bold(link(title_of(paper), abs_url(paper)))}\n"
                f"{esc(short_authors(paper.authors, keep=5))}"
            )
        )
        if abstract:
            blocks.append(Text(esc(abstract)))
    ctx = [
        f"arXiv:{esc(paper.arxiv_id)}",
        esc(paper.primary_category) if paper.primary_category else "",
        f"published {day(paper.published)}" if paper.published else "",
        f"proposed by {esc(e.proposer.name or e.proposer.user_id)} on {day(e.proposal.created_at)}",
    ]
    blocks.append(Context(" · ".join(x for x in ctx if x)))
    if e.proposal.why:
        blocks.append(Text(f"_Why:_ {esc(e.proposal.why)}"))
    if e.proposal.status == ProposalStatus.OPEN:
        blocks.append(Buttons((upvote_button(e),)))
    elif e.proposal.status == ProposalStatus.PRESENTED:
        blocks.append(Context(f"presented {day(e.proposal.presented_at)}"))
    elif e.proposal.status == ProposalStatus.WITHDRAWN:
        blocks.append(Context("withdrawn"))
    return Reply(
        blocks=tuple(blocks),  # type: ignore[arg-type]
        tag=f"card:{e.proposal.id}",
        fallback_text=f"{title_of(paper)} (arXiv:{paper.arxiv_id})",
    )


def list_line(rank: int | None, e: Entry) -> str:
    """One line of /queue or /history."""
    paper = e.paper
    head = f"{rank}. " if rank is not None else ""
    votes = f"{e.votes} vote{'s' if e.votes != 1 else ''}"
    status = {
        ProposalStatus.PRESENTED: f" · presented {day(e.proposal.presented_at)}",
        ProposalStatus.SCHEDULED: " · scheduled",
    }.get(ProposalStatus(e.proposal.status), "")
    return (
        f"{head}{bold(link(title_of(paper), abs_url(paper)))} — "
        f"{esc(short_authors(paper.authors))}\n"
        f"{votes} · proposed by {esc(e.proposer.name or e.proposer.user_id)} "
        f"on {day(e.proposal.created_at)}{status}"
    )
