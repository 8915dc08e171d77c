"""The weekly "This Week in ML" post: gathering a week, drafting, revisions,
approval and publishing exactly once; and the quarterly digest.

The post is neutral markup (:mod:`bot.chat.markup`) rendered from the templates in
``prompts/``; every untrusted string (titles, authors, LLM output, thread
messages) is sanitised and escaped on the way in.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from bot.chat import sanitize
from bot.chat.events import Place
from bot.chat.markup import link
from bot.chat.replies import Block, Button, Buttons, Context, Header, Reply, Text
from bot.digest.drafts import button_value
from bot.digest.summaries import PaperInput, RunStats, Summary, sentences, summarize_papers
from bot.infra import prompts
from bot.infra.clock import as_utc
from bot.infra.llm import LlmClient
from bot.schedule import week_sessions
from bot.schedule.meetings import group_zone
from storage.digest.tables import DigestDraft, DigestRevision, DraftStatus
from storage.groups.tables import Group, Member
from storage.papers.tables import Paper, Proposal, ProposalStatus, Vote
from storage.schedule.tables import GroupSettings

if TYPE_CHECKING:
    from bot.infra.runtime import Runtime

log = logging.getLogger(__name__)

APPROVE, EDIT, EDIT_SAVE, REGENERATE, DISCARD = (
    "digest_approve",
    "digest_edit",
    "digest_edit_save",
    "digest_regenerate",
    "digest_discard",
)
#: Text per block: under Slack's 3,000-character section limit.
BLOCK_CHARS = 2800
MAX_ALSO = 10


class PeriodError(ValueError):
    """A week or quarter the user typed is not one we understand."""


# -- weeks and quarters ------------------------------------------------------------

_WEEK = re.compile(r"^\s*(\d{4})-?W(\d{1,2})\s*$", re.IGNORECASE)
_QUARTER = re.compile(r"^\s*(\d{4})-?Q([1-4])\s*$", re.IGNORECASE)


def _month_start(year: int, month: int, tz: tzinfo) -> datetime:
    """The UTC instant the local month begins; month 13 is next January
    (DST-safe: the offset is the one of that day)."""
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return datetime.combine(date(year, month, 1), time(0), tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True)
class Week:
    """An ISO week, Monday 00:00 to Monday 00:00 in the group's time zone."""

    year: int
    number: int
    tz: tzinfo = field(default=UTC, compare=False)

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.monday, time(0), tzinfo=self.tz).astimezone(UTC)

    @property
    def end(self) -> datetime:
        sunday = self.monday + timedelta(days=7)
        return datetime.combine(sunday, time(0), tzinfo=self.tz).astimezone(UTC)

    @property
    def date_label(self) -> str:
        """``16–22 November 2026`` (or across months: ``30 November – 6 December 2026``)."""
        a, b = self.monday, self.monday + timedelta(days=6)
        if a.month == b.month:
            return f"{a.day}–{b.day} {b:%B %Y}"
        if a.year == b.year:
            return f"{a.day} {a:%B} – {b.day} {b:%B %Y}"
        return f"{a.day} {a:%B %Y} – {b.day} {b:%B %Y}"

    def previous(self) -> Week:
        return Week.containing(self.start - timedelta(days=7), self.tz)

    @classmethod
    def containing(cls, when: datetime, tz: tzinfo = UTC) -> Week:
        iso = as_utc(when).astimezone(tz).isocalendar()
        return cls(iso.year, iso.week, tz)

    @classmethod
    def parse(cls, text: str | None, *, now: datetime, tz: tzinfo = UTC) -> Week:
        """A typed ISO week; empty: the week that contains ``now`` in ``tz``."""
        if not text or not text.strip():
            return cls.containing(now, tz)
        m = _WEEK.match(text)
        if not m:
            raise PeriodError(
                f"“{text.strip()[:40]}” is not an ISO week. Write it like "
                f"{cls.containing(now, tz).label} (year, W, week number), or leave it out "
                "for the current week."
            )
        year, number = int(m.group(1)), int(m.group(2))
        try:
            date.fromisocalendar(year, number, 1)
        except ValueError:
            raise PeriodError(
                f"{year} has no week {number}: ISO weeks run from W01 to W52 (W53 in some years)."
            ) from None
        return cls(year, number, tz)


@dataclass(frozen=True)
class Quarter:
    """A calendar quarter, from the first of its first month in the group's time zone."""

    year: int
    number: int
    tz: tzinfo = field(default=UTC, compare=False)

    @property
    def label(self) -> str:
        return f"Q{self.number} {self.year}"

    @property
    def start(self) -> datetime:
        return _month_start(self.year, 3 * self.number - 2, self.tz)

    @property
    def end(self) -> datetime:
        return _month_start(self.year, 3 * self.number + 1, self.tz)

    @classmethod
    def parse(cls, text: str, tz: tzinfo = UTC) -> Quarter:
        m = _QUARTER.match(text or "")
        if not m:
            raise PeriodError(
                f"“{(text or '').strip()[:40]}” is not a quarter. Write it like 2026-Q4."
            )
        return cls(int(m.group(1)), int(m.group(2)), tz)


_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")


@dataclass(frozen=True)
class Month:
    """A calendar month, from midnight on the first in the group's time zone."""

    year: int
    number: int
    tz: tzinfo = field(default=UTC, compare=False)

    @property
    def label(self) -> str:
        return f"{date(self.year, self.number, 1):%B %Y}"

    @property
    def start(self) -> datetime:
        return _month_start(self.year, self.number, self.tz)

    @property
    def end(self) -> datetime:
        return _month_start(self.year, self.number + 1, self.tz)

    @classmethod
    def containing(cls, when: datetime, tz: tzinfo = UTC) -> Month:
        local = as_utc(when).astimezone(tz)
        return cls(local.year, local.month, tz)

    @classmethod
    def parse(cls, text: str | None, *, now: datetime, tz: tzinfo = UTC) -> Month:
        """``2026-11``; empty: the month that contains ``now`` in ``tz``."""
        if not text or not text.strip():
            return cls.containing(now, tz)
        m = _MONTH.match(text)
        if not m or not 1 <= int(m.group(2)) <= 12:
            raise PeriodError(
                f"“{text.strip()[:40]}” is not a month. Write it like "
                f"{now:%Y-%m} (year, dash, month), or leave it out for this month."
            )
        return cls(int(m.group(1)), int(m.group(2)), tz)


# -- what happened in a week -----------------------------------------------------


@dataclass(frozen=True)
class Featured:
    """A paper the group met about, with the session's people and takeaways."""

    paper: Paper
    presenter: str
    takeaways: tuple[str, ...]
    discussion: tuple[str, ...]
    starts_at: datetime | None = None


@dataclass(frozen=True)
class AlsoProposed:
    paper: Paper
    proposer: str
    votes: int
    why: str


@dataclass(frozen=True)
class WeekContent:
    group: Group
    featured: tuple[Featured, ...]
    also: tuple[AlsoProposed, ...]

    @property
    def empty(self) -> bool:
        return not self.featured and not self.also

    def inputs(self) -> list[PaperInput]:
        out = [PaperInput.of(f.paper, f.takeaways, f.discussion) for f in self.featured]
        out += [PaperInput.of(a.paper) for a in self.also]
        return out


def _featured(*, session: Session, group_id: int, start: datetime, end: datetime) -> list[Featured]:
    infos = week_sessions.sessions_between(session=session, group_id=group_id, start=start, end=end)
    out: list[Featured] = []
    seen: set[int] = set()
    for info in infos:
        if info.paper_id is None or info.paper_id in seen:
            continue
        paper = session.get(Paper, info.paper_id)
        if paper is None:
            continue
        seen.add(info.paper_id)
        out.append(
            Featured(
                paper,
                info.presenter_name,
                tuple(info.takeaways),
                tuple(info.discussion),
                info.starts_at,
            )
        )
    return out


def proposed_between(
    *, session: Session, group_id: int, start: datetime, end: datetime
) -> list[AlsoProposed]:
    """Papers proposed in [start, end) and not withdrawn, most voted first
    (then oldest first)."""
    votes = (
        select(Vote.proposal_id, func.count().label("n")).group_by(col(Vote.proposal_id)).subquery()
    )
    n = func.coalesce(votes.c.n, 0)
    rows = session.exec(
        select(Proposal, Paper, Member, n)
        .join(Paper, col(Paper.id) == Proposal.paper_id)
        .join(Member, col(Member.id) == Proposal.member_id)
        .outerjoin(votes, votes.c.proposal_id == Proposal.id)
        .where(
            Proposal.group_id == group_id,
            Proposal.status != ProposalStatus.WITHDRAWN,
            col(Proposal.created_at) >= start,
            col(Proposal.created_at) < end,
        )
        .order_by(n.desc(), col(Proposal.created_at), col(Proposal.id))
    ).all()
    return [
        AlsoProposed(paper, member.name or member.user_id, int(votes_n), proposal.why)
        for proposal, paper, member, votes_n in rows
    ]


def gather_week(*, session: Session, group_id: int, start: datetime, end: datetime) -> WeekContent:
    """The week's sessions (from the schedule area) and the other papers
    proposed that week, most voted first."""
    group = session.get(Group, group_id)
    assert group is not None
    featured = _featured(session=session, group_id=group_id, start=start, end=end)
    taken = {f.paper.id for f in featured}
    also = tuple(
        a
        for a in proposed_between(session=session, group_id=group_id, start=start, end=end)
        if a.paper.id not in taken
    )
    return WeekContent(group, tuple(featured), also[:MAX_ALSO])


# -- rendering -----------------------------------------------------------------


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


def _title(paper: Paper) -> str:
    return sanitize.one_line(paper.title, limit=300) or f"arXiv:{paper.arxiv_id}"


def _links(paper: Paper) -> prompts.Markup:
    """``PDF · code`` after the title (which links to arXiv), like the seeds'
    ``[paper][github]``."""
    parts = [link("PDF", pdf_url(paper))]
    for url in sanitize.code_links(paper.abstract, paper.comment, *(paper.links or []))[:2]:
        parts.append(link("code", url))
    return prompts.Markup(" · ".join(parts))


def _clean_list(items: tuple[str, ...], paper: Paper, limit: int = 300) -> list[str]:
    allowed = sanitize.paper_urls(paper.arxiv_id, paper.version)
    out = [sanitize.one_line(t, allowed_urls=allowed, limit=limit) for t in items]
    return [x for x in out if x]


def _first_sentence(text: str) -> str:
    parts = sentences(text)
    return parts[0] if parts else ""


def _and(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _intro(content: WeekContent) -> str:
    f, a = len(content.featured), len(content.also)
    if f:
        titles = [_title(x.paper) for x in content.featured[:3]]
        more = f" and {f - 3} more" if f > 3 else ""
        text = (
            f"This week the group read {f} paper{'s' if f != 1 else ''}: "
            f"{_and(titles)}{more}. Here is what each is about and what we took away."
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
                "title": _title(f.paper),
                "abs_url": abs_url(f.paper),
                "link_line": _links(f.paper),
                "authors": short_authors(f.paper.authors),
                "presenter": sanitize.one_line(f.presenter, limit=80),
                "tldr": s.tldr if s else "",
                "offline": bool(s and s.offline),
                "key_insights": list(s.key_insights) if s else [],
                "why_it_matters": s.why_it_matters if s else None,
                "takeaways": _clean_list(f.takeaways, f.paper),
            }
        )
    also = []
    for a in content.also:
        s = summaries.get(a.paper.id or -1)
        also.append(
            {
                "title": _title(a.paper),
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
    """Paragraph-aligned Text blocks, each under the per-block limit."""
    blocks: list[Block] = []
    chunk = ""
    for para in re.split(r"\n\s*\n", body.strip()):
        para = para.strip()
        if not para:
            continue
        candidate = f"{chunk}\n\n{para}" if chunk else para
        if len(candidate) > BLOCK_CHARS and chunk:
            blocks.append(Text(chunk))
            chunk = para
        else:
            chunk = candidate
    if chunk:
        blocks.append(Text(chunk))
    return blocks


def post_reply(title: str, body: str) -> Reply:
    """The public post: adapters split it to the platform's limits."""
    return Reply(
        blocks=(Header(title), *body_blocks(body)),
        long_form=True,
        fallback_text=title,
    )


# -- drafts --------------------------------------------------------------------


@dataclass(frozen=True)
class DraftView:
    """A draft with its newest revision, for the organizer's private preview."""

    draft: DigestDraft
    revision: DigestRevision
    group: Group


def llm_for(bot: Runtime) -> LlmClient | None:
    """The bot's LLM client (one per bot, so the concurrency bound and the
    breaker are shared), or None without a key."""
    return bot.llm


def set_llm(bot: Runtime, client: LlmClient | None) -> None:
    """Use this client (tests, other endpoints)."""
    bot.llm = client


def _new_draft(
    *,
    session: Session,
    group_id: int,
    week: str,
    actor_id: str,
    title: str,
    body: str,
    stats: RunStats,
    now: datetime,
) -> DraftView:
    draft = DigestDraft(
        group_id=group_id,
        week=week,
        created_by=actor_id,
        created_at=now,
        revision=1,
        run_id=stats.run_id,
        llm_calls=stats.calls,
        prompt_tokens=stats.prompt_tokens,
        completion_tokens=stats.completion_tokens,
        summaries_reused=stats.reused,
    )
    session.add(draft)
    session.flush()
    assert draft.id is not None
    rev = DigestRevision(
        draft_id=draft.id,
        number=1,
        source="generated",
        author=actor_id,
        title=title,
        body=body,
        created_at=now,
    )
    session.add(rev)
    session.flush()
    group = session.get(Group, group_id)
    assert group is not None
    return DraftView(draft, rev, group)


def load_view(*, session: Session, draft_id: int) -> DraftView | None:
    draft = session.get(DigestDraft, draft_id)
    if draft is None:
        return None
    rev = session.exec(
        select(DigestRevision)
        .where(DigestRevision.draft_id == draft_id)
        .order_by(col(DigestRevision.number).desc())
    ).first()
    group = session.get(Group, draft.group_id)
    assert rev is not None and group is not None
    return DraftView(draft, rev, group)


class DraftClosed(Exception):
    """The draft was published or discarded; it cannot change any more."""


def add_revision(
    *,
    session: Session,
    draft_id: int,
    title: str,
    body: str,
    source: str,
    author: str,
    now: datetime,
    stats: RunStats | None = None,
) -> DraftView:
    """Keep a new revision (the old ones stay); only while the draft is open.
    The draft row is locked first, so two saves at once number their
    revisions one after the other instead of one failing on the same number."""
    draft = session.get(DigestDraft, draft_id, with_for_update=True)
    if draft is None or draft.status != DraftStatus.DRAFT:
        raise DraftClosed(draft.status if draft else "missing")
    for _attempt in range(5):
        newest = session.exec(
            select(func.max(DigestRevision.number)).where(DigestRevision.draft_id == draft_id)
        ).one()
        number = int(newest or 0) + 1
        rev = DigestRevision(
            draft_id=draft_id,
            number=number,
            source=source,
            author=author,
            title=title,
            body=body,
            created_at=now,
        )
        try:
            with session.begin_nested():
                session.add(rev)
            break
        except IntegrityError:  # SQLite has no row lock: the other save took the number
            continue
    else:  # pragma: no cover
        raise RuntimeError(f"could not number a new revision of draft {draft_id}")
    draft.revision = number
    if stats is not None:
        draft.run_id = stats.run_id
        draft.llm_calls += stats.calls
        draft.prompt_tokens += stats.prompt_tokens
        draft.completion_tokens += stats.completion_tokens
        draft.summaries_reused = stats.reused
    session.add(draft)
    session.flush()
    group = session.get(Group, draft.group_id)
    assert group is not None
    return DraftView(draft, rev, group)


def discard(*, session: Session, draft_id: int) -> bool:
    result = session.execute(
        sa.update(DigestDraft)
        .where(col(DigestDraft.id) == draft_id, col(DigestDraft.status) == DraftStatus.DRAFT)
        .values(status=DraftStatus.DISCARDED)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Drafted:
    view: DraftView | None  # None: an empty week, nothing drafted
    stats: RunStats = field(default_factory=RunStats)
    offline: int = 0


async def compose_week(
    bot: Runtime, *, group_id: int, week: Week, force: bool = False
) -> tuple[WeekContent, str, str, RunStats]:
    """Gather, summarise and render a week (no draft saved)."""
    content = await bot.db(gather_week, group_id=group_id, start=week.start, end=week.end)
    if content.empty:
        return content, "", "", RunStats()
    summaries, stats = await summarize_papers(
        content.inputs(), db=bot.db, llm=llm_for(bot), now=bot.clock.now(), force=force
    )
    title, body = render_week(week, content, summaries)
    return content, title, body, stats


async def draft_week(bot: Runtime, *, group_id: int, week: Week, actor_id: str) -> Drafted:
    """Draft a week's post as revision 1 of a new draft; an empty week drafts nothing."""
    content, title, body, stats = await compose_week(bot, group_id=group_id, week=week)
    if content.empty:
        return Drafted(None)
    view = await bot.db(
        _new_draft,
        group_id=group_id,
        week=week.label,
        actor_id=actor_id,
        title=title,
        body=body,
        stats=stats,
        now=bot.clock.now(),
    )
    return Drafted(view, stats, stats.offline)


async def regenerate(bot: Runtime, *, draft_id: int, actor_id: str) -> DraftView:
    """A fresh revision from the week's current data, asking the LLM anew."""
    view = await bot.db(load_view, draft_id=draft_id)
    if view is None:
        raise DraftClosed("missing")
    if view.draft.status != DraftStatus.DRAFT:
        raise DraftClosed(view.draft.status)
    tz = await bot.db(group_zone, group_id=view.draft.group_id)
    week = Week.parse(view.draft.week, now=bot.clock.now(), tz=tz)
    content, title, body, stats = await compose_week(
        bot, group_id=view.draft.group_id, week=week, force=True
    )
    if content.empty:
        title, body = view.revision.title, view.revision.body
    return await bot.db(
        add_revision,
        draft_id=draft_id,
        title=title,
        body=body,
        source="regenerated",
        author=actor_id,
        now=bot.clock.now(),
        stats=stats,
    )


def cost_line(draft: DigestDraft) -> str:
    tokens = draft.prompt_tokens + draft.completion_tokens
    parts = [
        f"Revision {draft.revision}",
        f"{draft.llm_calls} LLM call{'s' if draft.llm_calls != 1 else ''}",
        f"{tokens:,} tokens ({draft.prompt_tokens:,} in, {draft.completion_tokens:,} out)",
    ]
    if draft.summaries_reused:
        n = draft.summaries_reused
        parts.append(f"{n} cached summar{'ies' if n != 1 else 'y'} reused")
    return " · ".join(parts)


def draft_reply(view: DraftView, *, note: str = "", replace: bool = False) -> Reply:
    """The organizer's private preview with Approve / Edit / Regenerate / Discard."""
    draft = view.draft
    assert draft.id is not None
    value = button_value(draft.id, view.revision.number)
    blocks: list[Block] = []
    if note:
        blocks.append(Context(note))
    blocks.append(
        Context(
            f"Draft of the weekly post for {draft.week} — only you can see this until it "
            "is approved."
        )
    )
    blocks.append(Header(view.revision.title))
    blocks.extend(body_blocks(view.revision.body))
    blocks.append(Context(cost_line(draft)))
    blocks.append(
        Buttons(
            (
                Button("Approve & publish", APPROVE, value, "primary"),
                Button("Edit", EDIT, value),
                Button("Regenerate", REGENERATE, value),
                Button("Discard", DISCARD, value, "danger"),
            )
        )
    )
    return Reply(
        blocks=tuple(blocks),
        private=True,
        replace=replace,
        long_form=True,
        fallback_text=f"Draft: {view.revision.title}",
    )


# -- approval and publishing -----------------------------------------------------


def announcement_place(group: Group, session: Session) -> Place:
    """The group's announcement channel if the schedule area configured one
    (``group_settings.announce_channel``), else the group's own channel."""
    row = session.get(GroupSettings, group.id)
    channel = row.announce_channel if row is not None and row.announce_channel else group.channel
    return Place(group.platform, group.workspace, channel)


def published_of_week(*, session: Session, group_id: int, week: str) -> DraftView | None:
    """The week's published post, else its newest open draft."""
    for statuses in ((DraftStatus.PUBLISHED,), (DraftStatus.DRAFT, DraftStatus.PUBLISHING)):
        draft = session.exec(
            select(DigestDraft)
            .where(
                DigestDraft.group_id == group_id,
                DigestDraft.week == week,
                col(DigestDraft.status).in_(statuses),
            )
            .order_by(col(DigestDraft.id).desc())
        ).first()
        if draft is not None and draft.id is not None:
            return load_view(session=session, draft_id=draft.id)
    return None


# -- the quarterly digest -------------------------------------------------------


def gather_quarter(
    *, session: Session, group_id: int, start: datetime, end: datetime
) -> tuple[Group, list[Featured]]:
    """The quarter's sessions, plus papers marked presented in it that the
    schedule area has no session for (older data), oldest first."""
    group = session.get(Group, group_id)
    assert group is not None
    featured = _featured(session=session, group_id=group_id, start=start, end=end)
    taken = {f.paper.id for f in featured}
    rows = session.exec(
        select(Proposal, Paper)
        .join(Paper, col(Paper.id) == Proposal.paper_id)
        .where(
            Proposal.group_id == group_id,
            Proposal.status == ProposalStatus.PRESENTED,
            col(Proposal.presented_at) >= start,
            col(Proposal.presented_at) < end,
        )
        .order_by(col(Proposal.presented_at))
    ).all()
    for proposal, paper in rows:
        if paper.id not in taken:
            taken.add(paper.id)
            featured.append(Featured(paper, "", (), (), proposal.presented_at))
    featured.sort(key=lambda f: as_utc(f.starts_at) if f.starts_at else start)
    return group, featured


def _meaning(f: Featured, s: Summary | None) -> str:
    """What it means for the team: the grounded LLM line, else the takeaways."""
    if s is not None and s.why_it_matters:
        return s.why_it_matters
    said = _clean_list(f.takeaways, f.paper)
    if said:
        return " ".join(t if t.endswith((".", "!", "?")) else t + "." for t in said)
    return "No takeaways were recorded for this session."


def render_quarter(
    quarter: Quarter, group: Group, featured: list[Featured], summaries: dict[int, Summary]
) -> tuple[str, str]:
    """(title, body markup) of the quarterly digest."""
    template = prompts.load("quarterly_digest")
    papers: list[dict[str, Any]] = []
    for f in featured:
        s = summaries.get(f.paper.id or -1)
        papers.append(
            {
                "title": _title(f.paper),
                "abs_url": abs_url(f.paper),
                "link_line": _links(f.paper),
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
        f"Thanks to everyone who presented this quarter: {_and(presenters)}."
        if presenters
        else "Thanks to everyone who read along this quarter."
    )
    ctx: dict[str, Any] = {
        "group_name": sanitize.one_line(group.name, limit=80) or "Reading Group",
        "quarter": {"label": quarter.label},
        "intro": intro,
        "papers": papers,
        "closing": closing,
    }
    return title_of(template, ctx), template.render(**ctx)


async def compose_quarter(bot: Runtime, *, group_id: int, quarter: Quarter) -> tuple[str, str, int]:
    """(title, body, number of papers) of a quarter's digest."""
    group, featured = await bot.db(
        gather_quarter, group_id=group_id, start=quarter.start, end=quarter.end
    )
    if not featured:
        return "", "", 0
    inputs = [PaperInput.of(f.paper, f.takeaways, f.discussion) for f in featured]
    summaries, _stats = await summarize_papers(
        inputs, db=bot.db, llm=llm_for(bot), now=bot.clock.now()
    )
    title, body = render_quarter(quarter, group, featured, summaries)
    return title, body, len(featured)


# -- the monthly picks -----------------------------------------------------------

#: How many papers the monthly picks show.
MAX_PICKS = 10


def gather_month(
    *, session: Session, group_id: int, start: datetime, end: datetime
) -> tuple[Group, list[AlsoProposed]]:
    """The month's most voted proposals (not withdrawn), at most MAX_PICKS."""
    group = session.get(Group, group_id)
    assert group is not None
    picks = proposed_between(session=session, group_id=group_id, start=start, end=end)
    return group, picks[:MAX_PICKS]


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
                "title": _title(paper),
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
    group, picks = await bot.db(gather_month, group_id=group_id, start=month.start, end=month.end)
    if not picks:
        return "", "", 0
    summaries, _stats = await summarize_papers(
        [PaperInput.of(p.paper) for p in picks], db=bot.db, llm=llm_for(bot), now=bot.clock.now()
    )
    title, body = render_month(month, group, picks, summaries)
    return title, body, len(picks)
