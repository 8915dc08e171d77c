"""Rendering a post: the paper lines every post shares (title, links,
authors), the weekly post from its template in ``prompts/``, and the post as
neutral blocks. Every untrusted string (titles, authors, LLM output, thread
messages) is sanitised and escaped on the way in."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import Any

from bot.chat import sanitize
from bot.chat.markup import link
from bot.chat.replies import Block, Header, Reply, Text
from bot.digest.gather import Featured, WeekContent
from bot.digest.periods import Week
from bot.digest.summary_types import Summary, sentences
from bot.infra import prompts
from bot.infra.clock import as_utc
from storage.papers.tables import Paper


def abs_url(paper: Paper) -> str:
    return f"https://arxiv.org/abs/{paper.arxiv_id}"


def pdf_url(paper: Paper) -> str:
    return f"https://arxiv.org/pdf/{paper.arxiv_id}"


def short_authors(authors: list[str] | tuple[str, ...], keep: int = 4) -> str:
    names = [sanitize.one_line(a, limit=80) for a in authors if a.strip()]
    if not names:
        return "authors not known yet"
    if len(names) <= keep:
        return ", ".join(names)
    return f"{', '.join(names[:keep])} et al."


def paper_title(paper: Paper) -> str:
    return sanitize.one_line(paper.title, limit=300) or f"arXiv:{paper.arxiv_id}"


def link_line(paper: Paper) -> prompts.Markup:
    """``PDF · code`` after the title (which links to arXiv), like the seeds'
    ``[paper][github]``."""
    parts = [link("PDF", pdf_url(paper))]
    for url in sanitize.code_links(paper.abstract, paper.comment, *(paper.links or []))[:2]:
        parts.append(link("code", url))
    return prompts.Markup(" · ".join(parts))


def clean_list(items: tuple[str, ...], paper: Paper, limit: int = 300) -> list[str]:
    allowed = sanitize.paper_urls(paper.arxiv_id, paper.version)
    out = [sanitize.one_line(t, allowed_urls=allowed, limit=limit) for t in items]
    return [x for x in out if x]


def _first_sentence(text: str) -> str:
    parts = sentences(text)
    return parts[0] if parts else ""


def and_list(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def plural(n: int, word: str, many: str = "") -> str:
    """``1 paper``, ``2 papers``; ``many`` for an irregular plural."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


def times(n: int) -> str:
    """``once``, ``twice``, ``3 times``."""
    return {1: "once", 2: "twice"}.get(n, f"{n} times")


def _intro(content: WeekContent, tz: tzinfo) -> str:
    """A factual opening written from the week's data (no fixed boilerplate)."""
    parts: list[str] = []
    held = [f for f in content.featured]
    if held:
        named = [
            paper_title(f.paper)
            + (f", presented by {sanitize.one_line(f.presenter, limit=80)}" if f.presenter else "")
            for f in held[:3]
        ]
        more = f" and {plural(len(held) - 3, 'more paper')}" if len(held) > 3 else ""
        parts.append(f"This week we read {plural(len(held), 'paper')}: {'; '.join(named)}{more}.")
    for c in content.coming:
        when = day_label(c.starts_at, tz) if c.starts_at else "later this week"
        who = sanitize.one_line(c.presenter, limit=80)
        what = f"{who} presents {paper_title(c.paper)}" if who else paper_title(c.paper)
        lead = "Still to come" if held else "This week's session"
        parts.append(f"{lead}: {when}, when {what}." if who else f"{lead}: {when}, {what}.")
    if content.also:
        a = len(content.also)
        verb = "was" if a == 1 else "were"
        parts.append(f"{plural(a, 'new paper')} {verb} proposed for the queue.")
    return " ".join(parts)


def day_label(when: datetime, tz: tzinfo) -> str:
    """``Thu 3 Dec``: no leading zero."""
    local = as_utc(when).astimezone(tz)
    return f"{local:%a} {local.day} {local:%b}"


def long_date(when: datetime, tz: tzinfo) -> str:
    """``3 December 2026``: no leading zero."""
    local = as_utc(when).astimezone(tz)
    return f"{local.day} {local:%B %Y}"


def coming_up(coming: Sequence[Featured], tz: tzinfo) -> list[dict[str, Any]]:
    """Sessions still to come: when, the paper and who presents it."""
    return [
        {
            "title": paper_title(f.paper),
            "abs_url": abs_url(f.paper),
            "presenter": sanitize.one_line(f.presenter, limit=80),
            "when": day_label(f.starts_at, tz) if f.starts_at else "",
        }
        for f in coming
    ]


def render_week(week: Week, content: WeekContent, summaries: dict[int, Summary]) -> tuple[str, str]:
    """(title, body markup) of the weekly post."""
    template = prompts.load("weekly_post")
    papers = []
    for f in content.featured:
        s = summaries.get(f.paper.id or -1)
        papers.append(
            {
                "title": paper_title(f.paper),
                "abs_url": abs_url(f.paper),
                "link_line": link_line(f.paper),
                "authors": short_authors(f.paper.authors),
                "presenter": sanitize.one_line(f.presenter, limit=80),
                "tldr": s.tldr if s else "",
                "offline": bool(s and s.offline),
                "key_insights": list(s.key_insights) if s else [],
                "why_it_matters": s.why_it_matters if s else None,
                "takeaways": clean_list(f.takeaways, f.paper),
            }
        )
    also = []
    for a in content.also:
        s = summaries.get(a.paper.id or -1)
        also.append(
            {
                "title": paper_title(a.paper),
                "abs_url": abs_url(a.paper),
                "authors": short_authors(a.paper.authors, keep=2),
                "proposer": sanitize.one_line(a.proposer, limit=80),
                "votes": a.votes,
                "tldr": _first_sentence(s.tldr) if s else "",
                "offline": bool(s and s.offline),
            }
        )
    ctx: dict[str, Any] = {
        "week": {"label": week.label, "date_label": week.date_label},
        "intro": _intro(content, week.tz),
        "papers": papers,
        "also": also,
        "coming": coming_up(content.coming, week.tz),
        "closing": "That's all for this week. See you at the next session!",
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
