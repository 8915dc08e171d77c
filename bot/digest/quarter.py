"""The quarterly digest: each paper the group met about in a quarter, who
presented it, and what it means for the team (export only)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.chat import sanitize
from bot.digest.gather import Featured, gather_quarter
from bot.digest.periods import Quarter
from bot.digest.render import (
    abs_url,
    and_list,
    clean_list,
    coming_up,
    link_line,
    paper_title,
    short_authors,
    title_of,
)
from bot.digest.summaries import llm_for, summarize_papers
from bot.digest.summary_types import PaperInput, Summary
from bot.infra import prompts
from bot.infra.clock import as_utc
from storage.groups.tables import Group

if TYPE_CHECKING:
    from bot.infra.runtime import Runtime


def _meaning(f: Featured, s: Summary | None) -> str:
    """What it means for the team: the grounded LLM line, else the takeaways."""
    if s is not None and s.why_it_matters:
        return s.why_it_matters
    said = clean_list(f.takeaways, f.paper)
    if said:
        return " ".join(t if t.endswith((".", "!", "?")) else t + "." for t in said)
    return "No takeaways were recorded for this session."


def render_quarter(
    quarter: Quarter,
    group: Group,
    featured: list[Featured],
    summaries: dict[int, Summary],
    coming: list[Featured] | None = None,
) -> tuple[str, str]:
    """(title, body markup) of the quarterly digest."""
    template = prompts.load("quarterly_digest")
    papers: list[dict[str, Any]] = []
    for f in featured:
        s = summaries.get(f.paper.id or -1)
        papers.append(
            {
                "title": paper_title(f.paper),
                "abs_url": abs_url(f.paper),
                "link_line": link_line(f.paper),
                "authors": short_authors(f.paper.authors),
                "presenter": sanitize.one_line(f.presenter, limit=80),
                "date": as_utc(f.starts_at).astimezone(quarter.tz).strftime("%d %B %Y")
                if f.starts_at
                else "",
                "summary": s.tldr if s and s.tldr else "The abstract is not available yet.",
                "offline": bool(s and s.tldr and s.offline),
                "key_insights": list(s.key_insights) if s else [],
                "meaning": _meaning(f, s),
            }
        )
    presenters = sorted({p["presenter"] for p in papers if p["presenter"]})
    n = len(papers)
    intro = (
        f"In {quarter.label} the group met {n} time{'s' if n != 1 else ''} and read "
        f"{n} paper{'s' if n != 1 else ''}. Here is a brief summary of each, who presented it, "
        "and what we think it means for our work."
    )
    closing = (
        f"Thanks to everyone who presented this quarter: {and_list(presenters)}."
        if presenters
        else "Thanks to everyone who read along this quarter."
    )
    ctx: dict[str, Any] = {
        "group_name": sanitize.one_line(group.name, limit=80) or "Reading Group",
        "quarter": {"label": quarter.label},
        "intro": intro,
        "papers": papers,
        "coming": coming_up(coming or [], quarter.tz),
        "closing": closing,
    }
    return title_of(template, ctx), template.render(**ctx)


async def compose_quarter(bot: Runtime, *, group_id: int, quarter: Quarter) -> tuple[str, str, int]:
    """(title, body, number of papers) of a quarter's digest."""
    content = await bot.db(
        gather_quarter,
        group_id=group_id,
        start=quarter.start,
        end=quarter.end,
        now=bot.clock.now(),
    )
    group, featured = content.group, content.held
    if not featured:
        return "", "", 0
    inputs = [PaperInput.of(f.paper, f.takeaways, f.discussion) for f in featured]
    summaries, _stats = await summarize_papers(
        inputs, db=bot.db, llm=llm_for(bot), now=bot.clock.now()
    )
    title, body = render_quarter(quarter, group, featured, summaries, content.coming)
    return title, body, len(featured)
