"""What a period's post is about: the sessions the group held (from the
schedule area), the ones still to come, and the papers proposed, most voted
first.

A session counts as held (its paper as read) only once it has ended
(``ends_at <= now``); until then it is "coming up", whatever its status says.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.digest.summaries import PaperInput
from bot.infra.clock import as_utc
from bot.schedule import discussion, week_sessions
from bot.schedule.meetings import MeetingRule, rule_of
from storage.digest import queries
from storage.groups.tables import Group
from storage.papers.tables import Paper
from storage.schedule.tables import GroupSettings, MeetingSession

#: How many other proposed papers the weekly post lists.
MAX_ALSO = 10
#: How many papers the monthly picks show.
MAX_PICKS = 10
#: How far past a month the monthly picks look for the session a pick is read in.
PICK_LOOKAHEAD = timedelta(weeks=26)
#: A session the schedule area reports without a row (tests) lasts this long.
DEFAULT_LENGTH = timedelta(hours=1)


@dataclass(frozen=True)
class Featured:
    """A paper of a session, with the session's people and takeaways.
    ``held`` is False for a session that has not ended yet (coming up)."""

    paper: Paper
    presenter: str
    takeaways: tuple[str, ...]
    discussion: tuple[str, ...]
    starts_at: datetime | None = None
    held: bool = True
    proposal_id: int | None = None
    #: Who wrote each takeaway (same order; "" where not known).
    takeaway_authors: tuple[str, ...] = ()
    #: The thread as (author's display name, text), oldest first (held sessions).
    thread: tuple[tuple[str, str], ...] = ()

    def summary_input(self) -> PaperInput:
        """What the paper's summary and write-up are made from."""
        names = {a for a, _ in self.thread} | ({self.presenter} if self.presenter else set())
        return PaperInput.of(
            self.paper,
            self.takeaways,
            self.discussion,
            thread=self.thread,
            members=tuple(sorted(n for n in names if n)),
        )


@dataclass(frozen=True)
class AlsoProposed:
    paper: Paper
    proposer: str
    votes: int
    why: str
    proposal_id: int | None = None
    #: The session the pick is (or will be) read in, if any (monthly picks).
    session: Featured | None = None


@dataclass(frozen=True)
class WeekContent:
    group: Group
    featured: tuple[Featured, ...]  # held: the session has ended
    also: tuple[AlsoProposed, ...]
    coming: tuple[Featured, ...] = ()  # sessions of the period still to come
    cancelled: tuple[datetime, ...] = ()  # when its cancelled sessions would have started

    @property
    def empty(self) -> bool:
        return not self.featured and not self.also and not self.coming

    def inputs(self) -> list[PaperInput]:
        out = [f.summary_input() for f in self.featured]
        out += [PaperInput.of(a.paper) for a in self.also]
        return out


def _ended(session: Session, info: week_sessions.SessionInfo, now: datetime | None) -> bool:
    if now is None:
        return True
    row = session.get(MeetingSession, info.session_id)
    ends = as_utc(row.ends_at) if row is not None else as_utc(info.starts_at) + DEFAULT_LENGTH
    return ends <= as_utc(now)


def _featured(
    *, session: Session, group_id: int, start: datetime, end: datetime, now: datetime | None
) -> list[Featured]:
    """Sessions with a paper in [start, end), oldest first; ``held`` says
    whether each has ended by ``now`` (None: all of them count as held)."""
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
        held = _ended(session, info, now)
        said = discussion.messages(session=session, meeting_id=info.session_id) if held else []
        by_text = {m.text: m.author_name for m in said if m.takeaway}
        out.append(
            Featured(
                paper,
                info.presenter_name,
                tuple(info.takeaways) if held else (),
                tuple(info.discussion) if held else (),
                info.starts_at,
                held,
                info.proposal_id,
                tuple(by_text.get(t, "") for t in info.takeaways) if held else (),
                tuple((m.author_name, m.text) for m in said),
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
        AlsoProposed(paper, member.name or member.user_id, votes, proposal.why, proposal.id)
        for proposal, paper, member, votes in rows
    ]


def gather_week(
    *, session: Session, group_id: int, start: datetime, end: datetime, now: datetime | None = None
) -> WeekContent:
    """The week's sessions (from the schedule area): held by ``now`` or still
    to come; and the other papers proposed that week, most voted first."""
    group = session.get(Group, group_id)
    assert group is not None
    sessions = _featured(session=session, group_id=group_id, start=start, end=end, now=now)
    taken = {f.paper.id for f in sessions}
    also = tuple(
        a
        for a in proposed_between(session=session, group_id=group_id, start=start, end=end)
        if a.paper.id not in taken
    )
    return WeekContent(
        group,
        tuple(f for f in sessions if f.held),
        also[:MAX_ALSO],
        tuple(f for f in sessions if not f.held),
        tuple(
            week_sessions.cancelled_between(
                session=session, group_id=group_id, start=start, end=end
            )
        ),
    )


@dataclass(frozen=True)
class QuarterContent:
    group: Group
    held: list[Featured]
    coming: list[Featured]
    cancelled: list[datetime] = field(default_factory=list)
    #: The group's meeting rule, for the closing ("meets every Thursday at 16:00").
    rule: MeetingRule | None = None


def gather_quarter(
    *, session: Session, group_id: int, start: datetime, end: datetime, now: datetime | None = None
) -> QuarterContent:
    """The quarter's sessions held by ``now``, plus papers marked presented in
    it that the schedule area has no session for (older data), oldest first;
    and its sessions still to come."""
    group = session.get(Group, group_id)
    assert group is not None
    sessions = _featured(session=session, group_id=group_id, start=start, end=end, now=now)
    held = [f for f in sessions if f.held]
    taken = {f.paper.id for f in sessions}
    for proposal, paper in queries.presented_between(
        session, group_id=group_id, start=start, end=end
    ):
        if paper.id in taken or proposal.presented_at is None:
            continue
        if now is not None and as_utc(proposal.presented_at) > as_utc(now):
            continue
        taken.add(paper.id)
        held.append(Featured(paper, "", (), (), proposal.presented_at, True, proposal.id))
    held.sort(key=lambda f: as_utc(f.starts_at) if f.starts_at else start)
    cfg = session.get(GroupSettings, group_id)
    return QuarterContent(
        group,
        held,
        [f for f in sessions if not f.held],
        week_sessions.cancelled_between(session=session, group_id=group_id, start=start, end=end),
        rule_of(cfg) if cfg is not None else None,
    )


def gather_month(
    *, session: Session, group_id: int, start: datetime, end: datetime, now: datetime | None = None
) -> tuple[Group, list[AlsoProposed]]:
    """The month's most voted proposals (not withdrawn), at most MAX_PICKS,
    each with the session it was (or will be) read in."""
    group = session.get(Group, group_id)
    assert group is not None
    picks = proposed_between(session=session, group_id=group_id, start=start, end=end)[:MAX_PICKS]
    sessions = _featured(
        session=session, group_id=group_id, start=start, end=end + PICK_LOOKAHEAD, now=now
    )
    by_proposal: dict[int | None, Featured] = {
        f.proposal_id: f for f in sessions if f.proposal_id is not None
    }
    by_paper: dict[int | None, Featured] = {f.paper.id: f for f in sessions}
    out = [
        replace(p, session=by_proposal.get(p.proposal_id) or by_paper.get(p.paper.id))
        for p in picks
    ]
    return group, out
