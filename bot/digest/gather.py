"""What a period's post is about: the sessions the group held (from the
schedule area) and the papers proposed, most voted first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.digest.summaries import PaperInput
from bot.infra.clock import as_utc
from bot.schedule import week_sessions
from storage.digest import queries
from storage.groups.tables import Group
from storage.papers.tables import Paper

#: How many other proposed papers the weekly post lists.
MAX_ALSO = 10
#: How many papers the monthly picks show.
MAX_PICKS = 10


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
    rows = queries.proposals_between(session, group_id=group_id, start=start, end=end)
    return [
        AlsoProposed(paper, member.name or member.user_id, votes, proposal.why)
        for proposal, paper, member, votes in rows
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


def gather_quarter(
    *, session: Session, group_id: int, start: datetime, end: datetime
) -> tuple[Group, list[Featured]]:
    """The quarter's sessions, plus papers marked presented in it that the
    schedule area has no session for (older data), oldest first."""
    group = session.get(Group, group_id)
    assert group is not None
    featured = _featured(session=session, group_id=group_id, start=start, end=end)
    taken = {f.paper.id for f in featured}
    for proposal, paper in queries.presented_between(
        session, group_id=group_id, start=start, end=end
    ):
        if paper.id not in taken:
            taken.add(paper.id)
            featured.append(Featured(paper, "", (), (), proposal.presented_at))
    featured.sort(key=lambda f: as_utc(f.starts_at) if f.starts_at else start)
    return group, featured


def gather_month(
    *, session: Session, group_id: int, start: datetime, end: datetime
) -> tuple[Group, list[AlsoProposed]]:
    """The month's most voted proposals (not withdrawn), at most MAX_PICKS."""
    group = session.get(Group, group_id)
    assert group is not None
    picks = proposed_between(session=session, group_id=group_id, start=start, end=end)
    return group, picks[:MAX_PICKS]
