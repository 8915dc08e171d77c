"""The monthly picks: the month's most voted proposals, why each was put
forward and what it says (export only)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.chat import sanitize
from bot.digest.gather import AlsoProposed, gather_month
from bot.digest.periods import Month
from bot.digest.render import abs_url, paper_title, short_authors, title_of
from bot.digest.summaries import llm_for, summarize_papers
from bot.digest.summary_types import PaperInput, Summary
from bot.infra import prompts
from storage.groups.tables import Group

if TYPE_CHECKING:
    from bot.infra.runtime import Runtime


def _why(pick: AlsoProposed) -> str:
    """The proposer's own reason (like the seed's "Why →"), with who and how many votes."""
    votes = f"{pick.votes} vote{'s' if pick.votes != 1 else ''}"
    allowed = sanitize.paper_urls(pick.paper.arxiv_id, pick.paper.version)
    said = sanitize.one_line(pick.why, allowed_urls=allowed, limit=500)
    proposer = sanitize.one_line(pick.proposer, limit=80)
    if said:
        said = said[0].upper() + said[1:]
        said = said if said.endswith((".", "!", "?")) else said + "."
        return f"{said} ({proposer}, {votes})"
    return f"Proposed by {proposer}; {votes}."


def render_month(
    month: Month, group: Group, picks: list[AlsoProposed], summaries: dict[int, Summary]
) -> tuple[str, str]:
    """(title, body markup) of the monthly picks (like seed 003)."""
    template = prompts.load("monthly_picks")
    papers: list[dict[str, Any]] = []
    for pick in picks:
        paper = pick.paper
        s = summaries.get(paper.id or -1)
        papers.append(
            {
                "title": paper_title(paper),
                "abs_url": abs_url(paper),
                "code_links": sanitize.code_links(
                    paper.abstract, paper.comment, *(paper.links or [])
                )[:2],
                "authors": short_authors(paper.authors),
                "why": _why(pick),
                "tldr": s.tldr if s and s.tldr else "The abstract is not available yet.",
                "offline": bool(s and s.tldr and s.offline),
                "key_insights": list(s.key_insights) if s else [],
            }
        )
    n = len(papers)
    name = sanitize.one_line(group.name, limit=80) or "Reading Group"
    if n == 1:
        intro = (
            f"One paper was proposed in {month.label}: why it was put forward, and what it says."
        )
    else:
        intro = (
            f"The {n} papers our group proposed in {month.label} with the most votes: why each "
            "was put forward, and what it says. Don't take the list as complete; it is what "
            "caught our eye."
        )
    ctx: dict[str, Any] = {
        "group_name": name,
        "month_label": month.label,
        "intro": intro,
        "papers": papers,
        "closing": "Propose next month's picks with /propose, and vote for them in /queue.",
    }
    return title_of(template, ctx), template.render(**ctx)


async def compose_month(bot: Runtime, *, group_id: int, month: Month) -> tuple[str, str, int]:
    """(title, body, number of papers) of a month's picks."""
    group, picks = await bot.db(
        gather_month, group_id=group_id, start=month.start, end=month.end, now=bot.clock.now()
    )
    if not picks:
        return "", "", 0
    summaries, _stats = await summarize_papers(
        [PaperInput.of(p.paper) for p in picks], db=bot.db, llm=llm_for(bot), now=bot.clock.now()
    )
    title, body = render_month(month, group, picks, summaries)
    return title, body, len(picks)
