"""Rendering a post: the paper lines every post shares (title, links,
authors), the weekly post from its template in ``prompts/``, and the post as
neutral blocks. Every untrusted string (titles, authors, LLM output, thread
messages) is sanitised and escaped on the way in."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from typing import Any

from bot.chat import sanitize
from bot.chat.plural import plural
from bot.chat.replies import Block, Header, Reply, Text
from bot.digest import paper_entry as pe
from bot.digest.gather import Featured, WeekContent
from bot.digest.paper_entry import and_list
from bot.digest.periods import Week
from bot.digest.summary_types import Summary, sentences
from bot.infra import prompts


def _first_sentence(text: str) -> str:
    parts = sentences(text)
    return parts[0] if parts else ""


#: An "Also proposed" line stays short: a longer first sentence is left out, never cut.
ALSO_TLDR_LIMIT = 220


def _short(sentence: str) -> str:
    return sentence if len(sentence) <= ALSO_TLDR_LIMIT else ""


def times(n: int) -> str:
    """``once``, ``twice``, ``3 times``."""
    return {1: "once", 2: "twice"}.get(n, f"{n} times")


def _intro(content: WeekContent, tz: tzinfo) -> str:
    """A factual opening written from the week's data (no fixed boilerplate)."""
    parts: list[str] = []
    held = [f for f in content.featured]
    if held:
        named = [
            pe.title(f.paper)
            + (f", presented by {sanitize.one_line(f.presenter, limit=80)}" if f.presenter else "")
            for f in held[:3]
        ]
        more = f" and {plural(len(held) - 3, 'more paper')}" if len(held) > 3 else ""
        parts.append(f"This week we read {plural(len(held), 'paper')}: {'; '.join(named)}{more}.")
    for c in content.coming:
        when = pe.day_label(c.starts_at, tz) if c.starts_at else "later this week"
        who = sanitize.one_line(c.presenter, limit=80)
        what = f"{who} presents {pe.title(c.paper)}" if who else pe.title(c.paper)
        lead = "Still to come" if held else "This week's session"
        parts.append(f"{lead}: {when}, when {what}." if who else f"{lead}: {when}, {what}.")
    if not held and not content.coming and content.cancelled:
        days = and_list([pe.day_label(t, tz) for t in content.cancelled])
        parts.append(f"There was no session this week: {days} was cancelled.")
    if content.also:
        a = len(content.also)
        verb = "was" if a == 1 else "were"
        parts.append(f"{plural(a, 'new paper')} {verb} proposed for the queue.")
    return " ".join(parts)


def coming_up(coming: Sequence[Featured], tz: tzinfo) -> list[dict[str, Any]]:
    """Sessions still to come: when, the paper and who presents it."""
    return [
        {
            "title": pe.title(f.paper),
            "abs_url": pe.abs_url(f.paper),
            "presenter": sanitize.one_line(f.presenter, limit=80),
            "when": pe.day_label(f.starts_at, tz) if f.starts_at else "",
        }
        for f in coming
    ]


def featured_entry(f: Featured, s: Summary | None, tz: tzinfo) -> dict[str, Any]:
    """A held session's paper as the templates show it (no empty part)."""
    said = pe.Said()
    paragraphs = pe.write_up(s, f.paper, said)
    why = pe.why_it_matters(s, f.paper, said)
    taken = pe.takeaways(f.takeaways, f.takeaway_authors, f.paper, said)
    return {
        "title": pe.title(f.paper),
        "abs_url": pe.abs_url(f.paper),
        "links": pe.links(f.paper),
        "authors": pe.short_authors(f.paper),
        "all_authors": pe.every_author(f.paper),
        "presenter": sanitize.one_line(f.presenter, limit=80),
        "date": pe.long_date(f.starts_at, tz) if f.starts_at else "",
        "day": pe.day_label(f.starts_at, tz) if f.starts_at else "",
        "paragraphs": paragraphs,
        "offline": pe.offline_note(s) and bool(paragraphs),
        "why_it_matters": why,
        "takeaways": taken,
        "meaning": why or pe.quoted(taken),
    }


def _week_closing(content: WeekContent, tz: tzinfo) -> str:
    presenters = sorted({sanitize.one_line(f.presenter, limit=80) for f in content.featured} - {""})
    if presenters:
        talked = any(f.takeaways or f.discussion for f in content.featured)
        thanks = f"Thanks to {and_list(presenters)} for presenting"
        return thanks + (", and to everyone who joined the discussion." if talked else ".")
    nxt = next((c for c in content.coming if c.starts_at), None)
    if nxt is not None and nxt.starts_at is not None:
        return f"See you on {pe.day_label(nxt.starts_at, tz)}."
    return "Vote for the paper you want to read next."


def _title_date(week: Week, content: WeekContent) -> str:
    """The post's date, as the seeds date theirs: the day of the week's last
    held session (``3 September 2026``); the week's dates when none was held."""
    held = [f.starts_at for f in content.featured if f.starts_at is not None]
    return pe.long_date(max(held), week.tz) if held else week.date_label


def render_week(
    week: Week, content: WeekContent, summaries: dict[int, Summary], intro: str | None = None
) -> tuple[str, str]:
    """(title, body markup) of the weekly post."""
    template = prompts.load("weekly_post")
    papers = [featured_entry(f, summaries.get(f.paper.id or -1), week.tz) for f in content.featured]
    also = []
    for a in content.also:
        s = summaries.get(a.paper.id or -1)
        also.append(
            {
                "title": pe.title(a.paper),
                "abs_url": pe.abs_url(a.paper),
                "proposer": sanitize.one_line(a.proposer, limit=80),
                "votes": plural(a.votes, "vote") if a.votes else "",
                "tldr": _short(_first_sentence(s.tldr)) if s else "",
            }
        )
    ctx: dict[str, Any] = {
        "week": {
            "label": week.label,
            "date_label": week.date_label,
            "title_date": _title_date(week, content),
        },
        "intro": intro or _intro(content, week.tz),
        "papers": papers,
        "also": also,
        "coming": coming_up(content.coming, week.tz),
        "offline_note": pe.offline_line(papers),
        "closing": _week_closing(content, week.tz),
    }
    return title_of(template, ctx), template.render(**ctx)


def title_of(template: prompts.PromptFile, ctx: dict[str, Any]) -> str:
    """The post's title from the template's front matter (plain text)."""
    raw = str(template.meta.get("title", template.name))
    return prompts.parse("_title", "---\n{}\n---\n" + raw).render(**ctx).strip()


def body_blocks(body: str) -> list[Block]:
    """The body as one neutral Text block (none when it is empty). Each
    adapter cuts it at paragraphs to its own platform's limits (a Slack
    section, a Discord embed), so the core knows none of them."""
    body = body.strip()
    return [Text(body)] if body else []


def post_reply(title: str, body: str) -> Reply:
    """The public post: adapters split it to the platform's limits."""
    return Reply(
        blocks=(Header(title), *body_blocks(body)),
        long_form=True,
        fallback_text=title,
    )
