"""Fixtures of the digest tests: the fake LLM endpoint, a bot wired to it, and
a seeded week (real arXiv abstracts from tests/fixtures)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from unittest.mock import create_autospec

import pytest
from sqlmodel import select

from bot.app import Bot
from bot.chat.events import Actor, Place
from bot.digest import periods, summaries
from bot.infra.llm import LlmClient
from bot.schedule import week_sessions
from bot.schedule.week_sessions import SessionInfo
from storage.groups.tables import Group
from storage.papers.tables import Paper, PaperStatus, Proposal, ProposalStatus, Vote
from tests.fakes.openai_fake import OpenAIFake
from tests.fixtures import ROOT as FIXTURES_ROOT

ATOM = FIXTURES_ROOT / "arxiv" / "atom"
NS = {"a": "http://www.w3.org/2005/Atom", "arxiv": "http://arxiv.org/schemas/atom"}
PLACE = Place("console", "local", "general")
ORGANIZER = Actor("console", "alice", "Alice", is_admin=True)
MEMBER = Actor("console", "bob", "Bob")
WEEK = periods.Week(2026, 47)


@dataclass(frozen=True)
class RealPaper:
    arxiv_id: str
    title: str
    authors: tuple[str, ...]
    abstract: str
    comment: str


@cache
def real_papers() -> tuple[RealPaper, ...]:
    """Entries of real arXiv API responses (20 papers, real abstracts)."""
    out: list[RealPaper] = []
    for name in (
        "search_all_testing_start0_max10.xml",
        "search_all_testing_start10_max10.xml",
        "single_1605.08386.xml",
        "single_1707.08567.xml",
    ):
        root = ET.parse(ATOM / name).getroot()
        for entry in root.findall("a:entry", NS):
            raw_id = entry.findtext("a:id", "", NS).rsplit("/abs/", 1)[-1]
            base = raw_id.rsplit("v", 1)[0] if "v" in raw_id.split(".")[-1] else raw_id
            abstract = " ".join(entry.findtext("a:summary", "", NS).split())
            if not abstract or any(p.arxiv_id == base for p in out):
                continue
            out.append(
                RealPaper(
                    base,
                    " ".join(entry.findtext("a:title", "", NS).split()),
                    tuple(a.findtext("a:name", "", NS) for a in entry.findall("a:author", NS)),
                    abstract,
                    entry.findtext("arxiv:comment", "", NS) or "",
                )
            )
    return tuple(out)


@pytest.fixture
async def fake_llm() -> AsyncIterator[OpenAIFake]:
    async with OpenAIFake() as fake:
        yield fake


def make_client(url: str, **kw: object) -> LlmClient:
    opts: dict[str, object] = {"timeout": 2.0, "backoff": 0.01, "max_backoff": 0.05}
    opts.update(kw)
    return LlmClient(base_url=url, api_key="sk-test", model="test-model", **opts)  # type: ignore[arg-type]


@pytest.fixture
async def llm_bot(bot: Bot, fake_llm: OpenAIFake) -> AsyncIterator[Bot]:
    client = make_client(fake_llm.url)
    summaries.set_llm(bot, client)
    yield bot
    await client.aclose()


@dataclass
class Seeded:
    group_id: int
    papers: list[Paper]
    sessions: list[SessionInfo]
    also: list[Paper]


def seed(
    bot: Bot,
    *,
    sessions: int,
    also: int = 0,
    week: periods.Week = WEEK,
    takeaways: bool = True,
    abstracts: dict[int, str] | None = None,
    start_index: int = 0,
    group_id: int | None = None,
) -> Seeded:
    """A group with ``sessions`` presented papers and ``also`` other proposals
    in ``week`` (papers from real arXiv entries)."""
    pool = real_papers()
    abstracts = abstracts or {}
    now = week.start + timedelta(hours=9)

    def work(*, session):  # type: ignore[no-untyped-def]
        from bot.groups.members import ensure_group, ensure_member

        group = (
            session.get(Group, group_id)
            if group_id
            else ensure_group(session=session, place=PLACE, now=now)
        )
        alice = ensure_member(session=session, actor=ORGANIZER, workspace="local", now=now)
        bob = ensure_member(session=session, actor=MEMBER, workspace="local", now=now)
        made: list[Paper] = []
        for i in range(sessions + also):
            real = pool[(start_index + i) % len(pool)]
            arxiv_id = (
                real.arxiv_id if start_index + i < len(pool) else f"2611.{10000 + start_index + i}"
            )
            paper = session.exec(select(Paper).where(Paper.arxiv_id == arxiv_id)).first()
            if paper is None:
                paper = Paper(
                    arxiv_id=arxiv_id,
                    version=1,
                    status=PaperStatus.READY,
                    title=real.title,
                    authors=list(real.authors),
                    abstract=abstracts.get(i, real.abstract),
                    comment=real.comment,
                    created_at=now,
                )
                session.add(paper)
                session.flush()
            proposal = Proposal(
                group_id=group.id,
                paper_id=paper.id,
                member_id=(bob if i % 2 else alice).id,
                why="worth a read",
                status=ProposalStatus.PRESENTED if i < sessions else ProposalStatus.OPEN,
                created_at=now + timedelta(minutes=i),
                presented_at=now + timedelta(days=2) if i < sessions else None,
            )
            session.add(proposal)
            session.flush()
            session.add(Vote(proposal_id=proposal.id, member_id=alice.id, created_at=now))
            made.append(paper)
        return group.id, made

    gid, made = bot.db_sync(work)
    infos = [
        SessionInfo(
            session_id=i + 1 + start_index,
            starts_at=week.start + timedelta(days=2, hours=16, minutes=i),
            paper_id=p.id,
            proposal_id=None,
            presenter_member_id=None,
            presenter_name=["Alice", "Bob", "Chen", "Dana"][(start_index + i) % 4],
            takeaways=(
                (
                    f"We could reuse the evaluation setup of {p.title[:40]} for our benchmark.",
                    "The ablations were the most convincing part.",
                )
                if takeaways
                else ()
            ),
            discussion=("Does it scale?", "Only tested on small data."),
        )
        for i, p in enumerate(made[:sessions])
    ]
    return Seeded(gid, made[:sessions], infos, made[sessions:])


@pytest.fixture
def sessions_patch(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[SessionInfo]]:
    """Replace the schedule area's sessions_between with a specced mock that
    answers from this list (filtered by the asked window)."""
    infos: list[SessionInfo] = []

    def answer(*, session, group_id, start, end):  # type: ignore[no-untyped-def]
        return [s for s in infos if start <= s.starts_at < end]

    mock = create_autospec(week_sessions.sessions_between, side_effect=answer)
    monkeypatch.setattr(week_sessions, "sessions_between", mock)
    yield infos


def at(week: periods.Week, days: float = 4) -> datetime:
    return (week.start + timedelta(days=days)).astimezone(UTC)
