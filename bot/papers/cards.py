"""Paper cards and list lines: how a paper looks in a reply."""

from __future__ import annotations

from datetime import datetime

from bot.chat.markup import bold, esc, link
from bot.chat.replies import Button, Buttons, Context, Reply, Text
from bot.infra.arxiv_ref import abs_url_of, pdf_url_of
from bot.infra.clock import as_utc
from bot.papers.proposals import Entry
from bot.papers.propose_text import REASON_MAX
from storage.papers.tables import Paper, PaperStatus, ProposalStatus

UPVOTE = "upvote"
WITHDRAW = "withdraw"
ABSTRACT_PREVIEW = 600
#: Characters of a reason shown on a public card (all of it is stored, up to
#: bot.papers.propose_text.REASON_MAX, and shown by `/queue <paper>`).
REASON_PREVIEW = 300
#: Later proposers' reasons shown on a card; the rest are counted.
REASONS_ON_CARD = 3


def abs_url(paper: Paper) -> str:
    """The paper's arXiv page (every link to a paper goes through this)."""
    return abs_url_of(paper.arxiv_id)


def pdf_url(paper: Paper) -> str:
    return pdf_url_of(paper.arxiv_id)


def short_authors(authors: list[str] | tuple[str, ...], keep: int = 3) -> str:
    """Up to ``keep`` authors, all named; more: the first ``keep - 1`` and
    "et al.". So "et al." always stands for at least two people and never
    hides a single last author ("A, B et al." for three authors did)."""
    names = [a.strip() for a in authors if a.strip()]
    if not names:
        return "unknown authors"
    if len(names) <= keep:
        return ", ".join(names)
    return f"{', '.join(names[: keep - 1])} et al."


def authors_of(paper: Paper, keep: int = 3) -> str:
    """The paper's authors for a line about it; a paper arXiv has not
    answered for yet has none to show, and is not said to have none."""
    if not paper.title and not paper.authors:
        return "authors once arXiv answers"
    return short_authors(paper.authors, keep=keep)


def day(when: datetime | None) -> str:
    return as_utc(when).strftime("%Y-%m-%d") if when else "?"


def title_of(paper: Paper) -> str:
    """The paper's title, or its id while arXiv has not answered (the one
    fallback every listing, card and post uses)."""
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
    blocks.extend(_reason_blocks(e))
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


def _preview(text: str, limit: int) -> tuple[str, bool]:
    """The start of a reason, cut at a word, and whether it was cut."""
    text = text.strip()
    if len(text) <= limit:
        return text, False
    cut = text[:limit]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit * 0.7 else cut).rstrip(), True


def _reason_blocks(e: Entry) -> list[Text]:
    """Who proposed it and why, short enough that a card stays one message
    however long the reasons are; `/queue <paper>` shows them in full."""
    shown: list[tuple[str, str]] = []
    if e.proposal.why:
        shown.append(("_Why:_", e.proposal.why))
    shown.extend((f"_Also proposed by {esc(r.name)}:_", r.why) for r in e.reasons)
    blocks: list[Text] = []
    cut_any = False
    for label, why in shown[: REASONS_ON_CARD + 1]:
        text, cut = _preview(why, REASON_PREVIEW)
        cut_any = cut_any or cut
        blocks.append(Text(f"{label} {esc(text)}{' …' if cut else ''}"))
    more = len(shown) - len(blocks)
    if cut_any or more:
        whole = "the full reason" if len(shown) == 1 else "the full reasons"
        extra = f"{more} more reason{'s' if more != 1 else ''}" if more else whole
        if more and cut_any:
            extra += " and the full text"
        blocks.append(Text(f"_({extra}: `/queue {esc(e.paper.arxiv_id)}`)_"))
    return blocks


def _whole(why: str) -> str:
    """A reason in full; one stored before reasons were capped (some were
    megabytes) is shown up to the cap, saying how much more there is."""
    if len(why) <= REASON_MAX:
        return esc(why)
    return f"{esc(why[:REASON_MAX])} … _({len(why) - REASON_MAX:,} more characters not shown)_"


def details(e: Entry) -> Reply:
    """One proposal in full, privately: every proposer's whole reason."""
    paper = e.paper
    votes = f"{e.votes} vote{'s' if e.votes != 1 else ''}"
    blocks: list[object] = [
        Text(f"{bold(link(title_of(paper), abs_url(paper)))}\n{esc(authors_of(paper, keep=5))}"),
        Context(
            f"arXiv:{esc(paper.arxiv_id)} · {votes} · {esc(e.proposal.status)} · proposed by "
            f"{esc(e.proposer.name or e.proposer.user_id)} on {day(e.proposal.created_at)}"
        ),
    ]
    if e.proposal.why:
        blocks.append(Text(f"_Why ({esc(e.proposer.name or e.proposer.user_id)}):_"))
        blocks.append(Text(_whole(e.proposal.why)))
    for r in e.reasons:
        blocks.append(Text(f"_Also proposed by {esc(r.name)}:_"))
        blocks.append(Text(_whole(r.why)))
    if not e.proposal.why and not e.reasons:
        blocks.append(Context("No reasons given."))
    return Reply(
        blocks=tuple(blocks),  # type: ignore[arg-type]
        private=True,
        long_form=True,
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
        f"{esc(authors_of(paper))}\n"
        f"{votes} · proposed by {esc(e.proposer.name or e.proposer.user_id)} "
        f"on {day(e.proposal.created_at)}{status}"
    )
