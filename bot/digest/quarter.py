"""The quarterly digest (seeds 000 and 001): the group and what it is about,
then each paper it read in the quarter with every author, who presented it
and when, the write-up, and what it means for the team where the group said
something (export only). Sessions still to come are listed as such."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.chat import sanitize
from bot.chat.dates import WEEKDAY_NAMES
from bot.chat.plural import plural
from bot.digest import paper_entry as pe
from bot.digest.gather import Featured, QuarterContent, gather_quarter
from bot.digest.period_prose import period_intro
from bot.digest.periods import Quarter
from bot.digest.render import coming_up, featured_entry, times, title_of
from bot.digest.summaries import llm_for, summarize_papers
from bot.digest.summary_types import Summary
from bot.infra import prompts
from storage.groups.tables import Group

if TYPE_CHECKING:
    from datetime import datetime, tzinfo

    from bot.infra.runtime import Runtime
    from bot.schedule.meetings import MeetingRule

DEFAULT_NAME = "Reading Group"


def group_name(group: Group) -> str:
    return sanitize.one_line(group.name, limit=80) or DEFAULT_NAME


def group_about(group: Group) -> str:
    return sanitize.one_line(getattr(group, "about", ""), limit=600)


def _intro(quarter: Quarter, featured: list[Featured], coming: list[Featured]) -> str:
    """A factual opening: how often the group met, what it read, who presented."""
    n = len(featured)
    parts: list[str] = []
    if n:
        presenters = sorted({sanitize.one_line(f.presenter, limit=80) for f in featured} - {""})
        text = f"In {quarter.label} we met {times(n)} and read {plural(n, 'paper')}"
        if presenters:
            text += f", presented by {pe.and_list(presenters)}"
        parts.append(text + ".")
        talked = sum(len(f.takeaways) for f in featured)
        if talked:
            parts.append(
                f"The discussions left {plural(talked, 'takeaway')}; they are quoted below "
                "with the paper they belong to."
            )
    if coming:
        parts.append(
            f"{plural(len(coming), 'session')} of the quarter {_are(len(coming))} still to come."
        )
    return " ".join(parts)


def _are(n: int) -> str:
    return "is" if n == 1 else "are"


def cancelled_line(cancelled: list[datetime], tz: tzinfo) -> str:
    """``The session on 6 August was cancelled.`` / ``No session on 6 August
    or 10 September: both were cancelled.``"""
    if not cancelled:
        return ""
    days = [pe.day_month(t, tz) for t in cancelled]
    if len(days) == 1:
        return f"The session on {days[0]} was cancelled."
    listed = ", ".join(days[:-1]) + f" or {days[-1]}"
    both = "both were" if len(days) == 2 else f"all {len(days)} were"
    return f"No session on {listed}: {both} cancelled."


def closing_line(name: str, presenters: list[str], rule: MeetingRule | None) -> str:
    """Thanks to the presenters, then when the group meets and how to join
    (from the group's meeting setting; nothing about it when unset)."""
    parts = []
    if presenters:
        parts.append(f"Thanks to everyone who presented this quarter: {pe.and_list(presenters)}.")
    if rule is not None:
        when = f"{WEEKDAY_NAMES[rule.weekday]} at {rule.at:%H:%M} ({rule.tz.key} time)"
        join = "; to read along, talk to any of the presenters above." if presenters else "."
        parts.append(f"{name} meets every {when}{join}")
    return " ".join(parts)


def render_quarter(
    quarter: Quarter,
    group: Group,
    featured: list[Featured],
    summaries: dict[int, Summary],
    coming: list[Featured] | None = None,
    *,
    intro: str | None = None,
    now: datetime | None = None,
    cancelled: list[datetime] | None = None,
    rule: MeetingRule | None = None,
) -> tuple[str, str]:
    """(title, body markup) of the quarterly digest."""
    template = prompts.load("quarterly_digest")
    papers: list[dict[str, Any]] = [
        featured_entry(f, summaries.get(f.paper.id or -1), quarter.tz) for f in featured
    ]
    presenters = sorted({p["presenter"] for p in papers if p["presenter"]})
    ctx: dict[str, Any] = {
        "group_name": group_name(group),
        "about": group_about(group),
        "date_line": pe.long_date(now, quarter.tz) if now is not None else "",
        "quarter": {"label": quarter.label},
        "intro": intro or _intro(quarter, featured, coming or []),
        "papers": papers,
        "coming": coming_up(coming or [], quarter.tz),
        "offline_note": pe.offline_line(papers),
        "cancelled": cancelled_line(cancelled or [], quarter.tz),
        "closing": closing_line(group_name(group), presenters, rule),
    }
    return title_of(template, ctx), template.render(**ctx)


async def compose_quarter(bot: Runtime, *, group_id: int, quarter: Quarter) -> tuple[str, str, int]:
    """(title, body, number of papers read) of a quarter's digest."""
    now = bot.clock.now()
    content: QuarterContent = await bot.db(
        gather_quarter, group_id=group_id, start=quarter.start, end=quarter.end, now=now
    )
    featured = content.held
    if not featured:
        return "", "", 0
    inputs = [f.summary_input() for f in featured]
    summaries, _stats = await summarize_papers(inputs, db=bot.db, llm=llm_for(bot), now=now)
    intro = await period_intro(
        bot,
        kind="quarter",
        label=quarter.label,
        papers=[f.paper for f in featured],
        takeaways=[t for f in featured for t in f.takeaways],
    )
    title, body = render_quarter(
        quarter,
        content.group,
        featured,
        summaries,
        content.coming,
        intro=intro,
        now=now,
        cancelled=content.cancelled,
        rule=content.rule,
    )
    return title, body, len(featured)
