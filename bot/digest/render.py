"""Rendering a post: the paper lines every post shares (title, links,
authors), the weekly post from its template in ``prompts/``, and the post as
neutral blocks. Every untrusted string (titles, authors, LLM output, thread
messages) is sanitised and escaped on the way in."""

from __future__ import annotations

from typing import Any

from bot.chat import sanitize
from bot.chat.markup import link
from bot.chat.replies import Block, Header, Reply, Text
from bot.digest.gather import WeekContent
from bot.digest.periods import Week
from bot.digest.summary_types import Summary, sentences
from bot.infra import prompts
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


def _intro(content: WeekContent) -> str:
    f, a = len(content.featured), len(content.also)
    if f:
        titles = [paper_title(x.paper) for x in content.featured[:3]]
        more = f" and {f - 3} more" if f > 3 else ""
        text = (
            f"This week the group read {f} paper{'s' if f != 1 else ''}: "
            f"{and_list(titles)}{more}. Here is what each is about and what we took away."
        )
        if a:
            text += f" {a} more paper{'s were' if a != 1 else ' was'} proposed for the queue."
        return text
    return (
        f"No session this week, but {a} paper{'s were' if a != 1 else ' was'} proposed. "
        "Here is a short look at each; vote for your favourite with /queue."
    )


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
        "intro": _intro(content),
        "papers": papers,
        "also": also,
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
