"""Load the seeded quarter (tests/fixtures/quarter/quarter.yaml) into a fresh
database through the real services: groups, members, proposals and votes,
papers with their arXiv metadata, the group's settings and meeting rule,
sessions (held or cancelled) with presenters and papers, thread messages and
💡 takeaways.

The clock is injectable: ``load_quarter(bot, now=...)`` replays the quarter up
to ``now`` only. Whatever happens later is not there yet: proposals and votes
made after ``now`` do not exist, a session that has not ended stays scheduled
(with its presenter and paper already assigned, as the bot would have them),
and its thread has no messages. ``bot.clock`` is set to ``now``.

    from tests.digest.quarter_seed import load_quarter
    q = load_quarter(bot, now=datetime(2026, 9, 22, 9, tzinfo=UTC))  # a Tuesday
    q.group_id, q.member_ids["lena"], q.session_ids["s13"], q.paper_ids["2502.07719"]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from sqlmodel import Session

from bot.chat.events import Actor, Place
from bot.groups.members import ensure_group, ensure_member
from bot.infra.arxiv_client import PaperMeta
from bot.infra.clock import ManualClock, as_utc
from bot.papers import proposals
from bot.schedule import discussion, meetings, rotation
from storage.papers.tables import Proposal
from storage.schedule.tables import MeetingSession, SessionStatus
from tests.fixtures import read_yaml

QUARTER_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "quarter"
#: The end of the quarter (after the last session and its thread).
END = datetime(2026, 10, 1, 0, 0, tzinfo=UTC)


@cache
def quarter_data() -> dict[str, Any]:
    data: dict[str, Any] = read_yaml(QUARTER_DIR / "quarter.yaml")
    return data


@cache
def llm_answers() -> dict[str, Any]:
    data: dict[str, Any] = read_yaml(QUARTER_DIR / "llm_answers.yaml")
    return data


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


@dataclass
class Loaded:
    group_id: int
    now: datetime
    place: Place
    member_ids: dict[str, int] = field(default_factory=dict)  # key -> Member.id
    paper_ids: dict[str, int] = field(default_factory=dict)  # arxiv id -> Paper.id
    proposal_ids: dict[str, int] = field(default_factory=dict)  # arxiv id -> Proposal.id
    session_ids: dict[str, int] = field(default_factory=dict)  # "s01" -> MeetingSession.id


def actor_of(member: dict[str, Any], platform: str) -> Actor:
    return Actor(platform, member["user_id"], member["display_name"])


def _meta(p: dict[str, Any]) -> PaperMeta:
    return PaperMeta(
        arxiv_id=p["arxiv_id"],
        version=int(p["version"]),
        title=p["title"],
        authors=tuple(p["authors"]),
        abstract=p["abstract"],
        categories=tuple(p["categories"]),
        primary_category=p["primary_category"],
        published=ts(p["published"]),
        updated=ts(p["updated"]),
        comment=p["comment"] or "",
        journal_ref=p["journal_ref"] or "",
        doi=p["doi"] or "",
        links=tuple(p["links"]),
    )


def _load(*, session: Session, now: datetime) -> Loaded:
    data = quarter_data()
    g = data["group"]
    platform = g["platform"]
    place = Place(platform, g["workspace_id"], g["channel_id"])
    start = ts(data["period"]["start"] + "T00:00:00Z") - timedelta(days=30)
    group = ensure_group(session=session, place=place, now=start)
    assert group.id is not None
    members = {m["key"]: m for m in data["members"]}
    organizer = members[g["organizer"]]
    group.name = g["name"]
    group.about = " ".join(g["about"].split())
    group.organizers = [organizer["user_id"]]
    session.add(group)
    out = Loaded(group_id=group.id, now=now, place=place)
    rows = {}
    for key, m in members.items():
        row = ensure_member(
            session=session, actor=actor_of(m, platform), workspace=place.workspace, now=start
        )
        assert row.id is not None
        rows[key] = row
        out.member_ids[key] = row.id
        rotation.join(session=session, group_id=group.id, member=row, now=start)

    cfg = meetings.get_settings(session=session, group_id=group.id, now=start)
    meet = g["meeting"]
    cfg.meeting_weekday = int(meet["weekday"])
    cfg.meeting_time = meet["time"]
    cfg.timezone = g["timezone"]
    cfg.duration_minutes = int(meet["duration_minutes"])
    session.add(cfg)
    session.flush()

    papers = {p["arxiv_id"]: p for p in data["papers"]}
    for prop in sorted(data["proposals"], key=lambda p: p["proposed_at"]):
        at = ts(prop["proposed_at"])
        if at > now:
            continue
        made = proposals.propose(
            session=session,
            group=group,
            member=rows[prop["proposer"]],
            arxiv_id=prop["arxiv_id"],
            why=prop["why"],
            now=at,
        )
        assert made.proposal.id is not None and made.paper.id is not None
        proposals.apply_metadata(
            session=session,
            paper_id=made.paper.id,
            meta=_meta(papers[prop["arxiv_id"]]),
            now=at + timedelta(seconds=5),
        )
        made.proposal.card_pending = False
        session.add(made.proposal)
        proposals.card_posted(session=session, proposal_id=made.proposal.id)
        # The fixture's votes are the upvotes of others (0 to 4): the
        # proposer's own automatic vote is taken back.
        proposals.toggle_vote(
            session=session, proposal_id=made.proposal.id, member=rows[prop["proposer"]], now=at
        )
        for i, voter in enumerate(prop["votes"]):
            proposals.toggle_vote(
                session=session,
                proposal_id=made.proposal.id,
                member=rows[voter],
                now=at + timedelta(hours=1 + i),
            )
        out.paper_ids[prop["arxiv_id"]] = made.paper.id
        out.proposal_ids[prop["arxiv_id"]] = made.proposal.id
    session.flush()

    zone = meetings.zone(g["timezone"])
    for s in data["sessions"]:
        starts, ends = ts(s["starts_at"]), ts(s["ends_at"])
        made_at = starts - timedelta(days=7)
        if made_at > now:
            break
        meetings.materialise(session=session, group_id=group.id, now=made_at)
        session.flush()
        day = datetime.fromisoformat(s["date"]).date()
        meeting = meetings.session_on(session=session, group_id=group.id, day=day, tz=zone)
        assert meeting is not None and meeting.id is not None, s["id"]
        assert as_utc(meeting.starts_at) == starts, s["id"]
        out.session_ids[s["id"]] = meeting.id
        if s["status"] == "cancelled":
            meetings.cancel(session=session, meeting=meeting, now=made_at)
            continue
        meeting.presenter_member_id = rows[s["presenter"]].id
        proposal_id = out.proposal_ids.get(s["arxiv_id"])
        if proposal_id is not None:
            proposal = session.get(Proposal, proposal_id)
            assert proposal is not None
            meetings.assign_paper(
                session=session,
                meeting=meeting,
                proposal=proposal,
                by=s.get("paper_chosen_by", "presenter"),
                now=max(made_at, as_utc(proposal.created_at)),
            )
        if starts - timedelta(hours=1) <= now:
            meeting.thread_id = s["thread_id"]
        session.add(meeting)
        session.flush()
        if ends <= now:
            meetings.finish_started(session=session, group_id=group.id, now=ends)
        for msg in s.get("messages") or []:
            if ts(msg["at"]) > now:
                continue
            author = members[msg["by"]]
            discussion.store_message(
                session=session,
                meeting_id=meeting.id,
                message_id=msg["id"],
                author_user_id=author["user_id"],
                author_name=author["display_name"],
                text=msg["text"],
                sent_at=ts(msg["at"]),
            )
            if msg.get("takeaway"):
                discussion.mark_takeaway(
                    session=session,
                    platform=platform,
                    workspace=place.workspace,
                    message_id=msg["id"],
                    on=True,
                    by=members[msg.get("takeaway_by") or msg["by"]]["user_id"],
                )
        session.flush()
    return out


def load_quarter(bot: Any, *, now: datetime = END) -> Loaded:
    """Replay the quarter into ``bot``'s (fresh) database up to ``now`` and set
    ``bot.clock`` to ``now``."""
    now = now.astimezone(UTC)
    loaded: Loaded = bot.db_sync(_load, now=now)
    bot.clock = ManualClock(now)
    return loaded


def session_row(bot: Any, session_id: int) -> MeetingSession:
    def get(*, session: Session) -> MeetingSession:
        row = session.get(MeetingSession, session_id)
        assert row is not None
        session.expunge(row)
        return row

    result: MeetingSession = bot.db_sync(get)
    return result


__all__ = ["END", "Loaded", "SessionStatus", "llm_answers", "load_quarter", "quarter_data"]
