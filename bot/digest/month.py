"""The monthly picks (seed 003): the month's most voted proposals, why each
was put forward (the proposer's reason and the votes), what it says, and for
the picks already read who presented them and what the group took away
(export only)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from bot.chat import sanitize
from bot.chat.plural import plural
from bot.digest import paper_entry as pe
from bot.digest.gather import AlsoProposed, Featured, gather_month
from bot.digest.period_prose import Extras, monthly_why, period_intro
from bot.digest.periods import Month
from bot.digest.quarter import group_name
from bot.digest.render import title_of
from bot.digest.summaries import llm_for, summarize_papers
from bot.digest.summary_types import PaperInput, Summary, sentences
from bot.infra import prompts
from storage.groups.tables import Group

if TYPE_CHECKING:
    from bot.infra.runtime import Runtime


def _why(pick: AlsoProposed, rewritten: str | None = None) -> str:
    """The proposer's reason (as the grounded check rewrote it, else as typed),
    then who proposed it and how many votes it has."""
    allowed = sanitize.paper_urls(pick.paper.arxiv_id, pick.paper.version)
    said = sanitize.one_line(rewritten or pick.why, allowed_urls=allowed, limit=500)
    proposer = sanitize.one_line(pick.proposer, limit=80)
    votes = plural(pick.votes, "vote")
    who = f"Proposed by {proposer}" if proposer else "Proposed"
    tail = f"{who}, {votes}." if pick.votes else f"{who}; no votes yet."
    if said:
        said = said[0].upper() + said[1:]
        said = said if said.endswith((".", "!", "?")) else said + "."
        return f"{said} {tail}"
    return tail


_QUOTE_START = re.compile(r"(?<=[.!?])\s+(?=[“\"])")
_GROUP = re.compile(r"\b(?:the group|the team|the thread|the discussion|the presenter)\b", re.I)


def split_discussion(paragraphs: list[str], names: set[str]) -> tuple[list[str], list[str]]:
    """A read pick's write-up as (what the paper says, what the group made of
    it): a sentence that quotes the thread or names the group or one of its
    people goes under "Read →", the rest stays under "Key insights →", each in
    its order. Nothing is dropped or reworded."""
    people = [n for n in names if n]
    insights: list[str] = []
    talk: list[str] = []
    for para in paragraphs:
        paper_side: list[str] = []
        group_side: list[str] = []
        for sentence in (q for s in sentences(para) for q in _QUOTE_START.split(s)):
            about_group = (
                _GROUP.search(sentence) is not None
                or "“" in sentence
                or " — " in sentence
                or any(re.search(rf"\b{re.escape(n)}\b", sentence) for n in people)
            )
            (group_side if about_group else paper_side).append(sentence)
        if paper_side:
            insights.append(_joined(paper_side))
        if group_side:
            talk.append(_joined(group_side))
    return insights, talk


def _joined(pieces: list[str]) -> str:
    """Sentences back into a paragraph; one that ends on an attribution
    (``… ” — Marco``) gets its full stop before the next one."""
    out = pieces[0]
    for piece in pieces[1:]:
        out += ("" if out.endswith((".", "!", "?", "”", '"')) else ".") + " " + piece
    return out


def _names(f: Featured) -> set[str]:
    return {sanitize.one_line(n, limit=80) for n in (f.presenter, *f.takeaway_authors)} | {
        sanitize.one_line(a, limit=80) for a, _ in f.thread
    }


def _read(pick: AlsoProposed, month: Month, said: pe.Said) -> dict[str, Any] | None:
    f = pick.session
    if f is None:
        return None
    presenter = sanitize.one_line(f.presenter, limit=80)
    if f.held:
        taken = pe.takeaways(f.takeaways, f.takeaway_authors, f.paper, said)
        when = pe.day_month(f.starts_at, month.tz) if f.starts_at else ""
        return {
            "held": True,
            "presenter": presenter,
            "date": when,
            "takeaways": pe.quoted(taken),
        }
    return {
        "held": False,
        "presenter": presenter,
        "date": pe.day_label(f.starts_at, month.tz) if f.starts_at else "",
        "takeaways": "",
    }


def render_month(
    month: Month,
    group: Group,
    picks: list[AlsoProposed],
    summaries: dict[int, Summary],
    *,
    intro: str | None = None,
    whys: dict[int, str] | None = None,
) -> tuple[str, str]:
    """(title, body markup) of the monthly picks (like seed 003); ``whys``:
    the grounded "Why →" of a pick, by paper id."""
    template = prompts.load("monthly_picks")
    papers: list[dict[str, Any]] = []
    for pick in picks:
        paper = pick.paper
        s = summaries.get(paper.id or -1)
        said = pe.Said()
        why = _why(pick, (whys or {}).get(paper.id or -1))
        said.paragraph(why)
        paragraphs = pe.write_up(s, paper, said)
        talk: list[str] = []
        if pick.session is not None and pick.session.held:
            paragraphs, talk = split_discussion(paragraphs, _names(pick.session))
        papers.append(
            {
                "title": pe.title(paper),
                "abs_url": pe.abs_url(paper),
                "code_links": pe.code_urls(paper),
                "authors": pe.short_authors(paper),
                "why": why,
                "paragraphs": paragraphs,
                "talk": talk,
                "offline": pe.offline_note(s) and bool(paragraphs),
                "read": _read(pick, month, said),
                "source": pe.pdf_url(paper),
            }
        )
    n = len(papers)
    name = group_name(group)
    read = sum(1 for p in papers if p["read"] and p["read"]["held"])
    default = (
        f"The {plural(n, 'paper')} the {name} proposed in {month.label}, most votes first: "
        "why each was put forward and what it says."
        if n != 1
        else f"The one paper the {name} proposed in {month.label}: why it was put forward "
        "and what it says."
    )
    if read and read == n and n > 1:
        default += f" The group has read all {n} of them."
    elif read:
        default += f" {plural(read, 'pick')} {'has' if read == 1 else 'have'} been read already."
    proposers = sorted({sanitize.one_line(p.proposer, limit=80) for p in picks} - {""})
    ctx: dict[str, Any] = {
        "group_name": name,
        "month_label": month.label,
        "intro": intro or default,
        "papers": papers,
        "offline_note": pe.offline_line(papers),
        "closing": f"Thanks to {pe.and_list(proposers)} for the proposals." if proposers else "",
    }
    return title_of(template, ctx), template.render(**ctx)


async def compose_month(bot: Runtime, *, group_id: int, month: Month) -> tuple[str, str, int]:
    """(title, body, number of papers) of a month's picks."""
    now = bot.clock.now()
    group, picks = await bot.db(
        gather_month, group_id=group_id, start=month.start, end=month.end, now=now
    )
    if not picks:
        return "", "", 0
    inputs = [p.session.summary_input() if p.session else PaperInput.of(p.paper) for p in picks]
    summaries, _stats = await summarize_papers(inputs, db=bot.db, llm=llm_for(bot), now=now)
    extras = Extras()  # the month's extra calls (no cost line: the picks are export only)
    intro = await period_intro(
        bot,
        kind="month",
        label=month.label,
        papers=[p.paper for p in picks],
        takeaways=[],
        extras=extras,
    )
    whys: dict[int, str] = {}
    for p in picks:
        text = await monthly_why(
            bot,
            title=p.paper.title,
            proposer=p.proposer,
            reason=p.why,
            votes=p.votes,
            extras=extras,
        )
        if text and p.paper.id is not None:
            whys[p.paper.id] = text
    title, body = render_month(month, group, picks, summaries, intro=intro, whys=whys)
    return title, body, len(picks)
