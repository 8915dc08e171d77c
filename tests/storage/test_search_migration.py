"""Migrations 0006_search to 0009_search_prefixes on a
database that already has papers, proposals and votes: the search index, the
vote counts and the per-status totals are filled from them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from bot.papers import proposals as svc
from storage.engine import alembic_config, make_engine, session_scope

T0 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
#: The search branch (0006_search and what builds on it).
SEARCH_BRANCH = {
    "0006_search",
    "0007_search_index",
    "0008_proposal_counts",
    "0009_search_prefixes",
}


@pytest.fixture
def before(database_url: str) -> Iterator[sa.Engine]:
    """A database at every head but the search branch's (the schema before it)."""
    eng = make_engine(database_url)
    cfg = alembic_config(eng)
    for head in ScriptDirectory.from_config(cfg).get_heads():
        if head not in SEARCH_BRANCH:
            command.upgrade(cfg, head)
    yield eng
    eng.dispose()


def _seed(engine: sa.Engine) -> tuple[int, list[int]]:
    md = sa.MetaData()
    md.reflect(engine, only=["groups", "members", "papers", "proposals", "votes"])
    t = md.tables
    assert "votes" not in t["proposals"].c  # really the schema before
    with engine.begin() as c:
        gid = c.execute(
            t["groups"]
            .insert()
            .values(
                platform="slack",
                workspace="T1",
                channel="C1",
                name="",
                organizers=[],
                created_at=T0,
            )
            .returning(t["groups"].c.id)
        ).scalar_one()
        mids = [
            c.execute(
                t["members"]
                .insert()
                .values(platform="slack", workspace="T1", user_id=u, name=u, created_at=T0)
                .returning(t["members"].c.id)
            ).scalar_one()
            for u in ("alice", "bob", "carol")
        ]
        pids = []
        for i, (title, abstract) in enumerate(
            [
                ("Attention is all you need", "Transformers replace recurrence."),
                ("Heat-bath random walks", "Markov bases of lattices."),
            ]
        ):
            paper = c.execute(
                t["papers"]
                .insert()
                .values(
                    arxiv_id=f"2401.0000{i}",
                    status="ready",
                    title=title,
                    abstract=abstract,
                    authors=["Ada Lovelace"],
                    categories=[],
                    primary_category="",
                    comment="",
                    journal_ref="",
                    doi="",
                    links=[],
                    fetch_attempts=0,
                    created_at=T0,
                )
                .returning(t["papers"].c.id)
            ).scalar_one()
            pids.append(
                c.execute(
                    t["proposals"]
                    .insert()
                    .values(
                        group_id=gid,
                        paper_id=paper,
                        member_id=mids[0],
                        why="",
                        status="open",
                        card_pending=False,
                        created_at=T0,
                    )
                    .returning(t["proposals"].c.id)
                ).scalar_one()
            )
        # two votes on the second paper, one on the first
        for pid, mid in ((pids[0], mids[0]), (pids[1], mids[1]), (pids[1], mids[2])):
            c.execute(t["votes"].insert().values(proposal_id=pid, member_id=mid, created_at=T0))
    return gid, pids


def test_upgrading_a_database_with_papers_fills_the_search_and_the_vote_counts(
    before: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storage.papers import queries

    monkeypatch.setattr(queries, "SQLITE_SMALL_GROUP", 0)  # SQLite: through the FTS5 table
    gid, _ = _seed(before)
    command.upgrade(alembic_config(before), "heads")
    with session_scope(before) as session:
        entries, total = svc.history(session=session, group_id=gid, words=["markov"])
        assert total == 1 and entries[0].paper.title == "Heat-bath random walks"
        entries, total = svc.history(session=session, group_id=gid, words=["lovelace"])
        assert total == 2
        entries, total = svc.queue(session=session, group_id=gid)
        assert total == 2
        assert [(e.paper.arxiv_id, e.votes) for e in entries] == [
            ("2401.00001", 2),
            ("2401.00000", 1),
        ]
    # and it can be taken back and made again (the back-fill runs again)
    cfg = alembic_config(before)
    command.downgrade(cfg, f"search@-{len(SEARCH_BRANCH)}")
    command.upgrade(cfg, "heads")
    with session_scope(before) as session:
        assert svc.history(session=session, group_id=gid, words=["transf"])[1] == 1
