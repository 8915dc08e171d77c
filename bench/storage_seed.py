"""The storage benchmark's data: realistic text from the real arXiv abstracts
in ``tests/fixtures/arxiv/atom`` and the bulk load of a seeded database (see
``bench/storage_bench.py``). Imports no ``bot`` or ``storage`` module, so the
benchmark can run them from another checkout (``--code``)."""

from __future__ import annotations

import hashlib
import json
import random
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "arxiv" / "atom"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
MEMBERS = 200
NS = {"a": "http://www.w3.org/2005/Atom"}
STOP = {
    "about", "after", "also", "among", "an", "and", "are", "as", "at", "be", "by", "for",
    "from", "has", "have", "in", "into", "is", "it", "its", "of", "on", "or", "that", "the",
    "their", "these", "this", "to", "using", "via", "was", "we", "which", "with",
}  # fmt: skip


# -- realistic text ---------------------------------------------------------------


@dataclass(frozen=True)
class Corpus:
    titles: list[str]
    sentences: list[str]
    vocabulary: list[str]
    authors: list[str]
    query_words: list[str]


def load_corpus() -> Corpus:
    titles, sentences, authors = [], [], []
    for path in sorted(FIXTURES.glob("*.xml")):
        for entry in ET.parse(path).getroot().findall("a:entry", NS):
            abstract = " ".join((entry.findtext("a:summary", "", NS) or "").split())
            if not abstract:
                continue
            titles.append(" ".join((entry.findtext("a:title", "", NS) or "").split()))
            sentences += [s for s in re.split(r"(?<=[.!?])\s+", abstract) if s]
            authors += [a.findtext("a:name", "", NS) or "" for a in entry.findall("a:author", NS)]
    words = sorted({w for s in sentences for w in s.split()})
    query = sorted({w.lower() for t in titles for w in re.findall(r"[A-Za-z]{4,}", t)} - STOP)
    return Corpus(sorted(set(titles)), sentences, words, sorted(set(authors)), query)


def _vary(words: list[str], corpus: Corpus, rng: random.Random, rate: float) -> str:
    return " ".join(rng.choice(corpus.vocabulary) if rng.random() < rate else w for w in words)


def paper_text(corpus: Corpus, rng: random.Random) -> tuple[str, str, list[str]]:
    sentences = rng.sample(corpus.sentences, rng.randint(5, 9))
    abstract = _vary(" ".join(sentences).split(), corpus, rng, 1 / 12)
    title = _vary(rng.choice(corpus.titles).split(), corpus, rng, 0.25)
    return title, abstract, rng.sample(corpus.authors, rng.randint(1, 6))


def history_words(corpus: Corpus, rng: random.Random) -> str:
    words = rng.sample(corpus.query_words, rng.choice((1, 1, 2)))
    if rng.random() < 1 / 3:
        words[-1] = words[-1][: rng.randint(4, 6)]  # still typing
    return " ".join(words)


# -- seeding ------------------------------------------------------------------------


def schema_key(heads: frozenset[str]) -> str:
    return hashlib.sha1(",".join(sorted(heads)).encode()).hexdigest()[:8]


def _rows(
    corpus: Corpus, papers: int, groups: int, rng: random.Random
) -> Iterator[tuple[dict[str, Any], dict[str, Any], list[int]]]:
    """(paper, proposal, voters) per paper; group of paper i: i % groups."""
    statuses = ["open"] * 6 + ["presented", "withdrawn", "scheduled"]
    for i in range(papers):
        title, abstract, authors = paper_text(corpus, rng)
        created = T0 + timedelta(seconds=30 * i)
        status = rng.choice(statuses)
        voters = rng.sample(range(1, MEMBERS + 1), rng.randint(0, 5))
        yield (
            dict(
                arxiv_id=f"{2000 + i // 99_999}.{i % 99_999:05d}",
                version=1,
                status="ready",
                title=title,
                authors=json.dumps(authors),
                abstract=abstract,
                categories='["cs.LG"]',
                primary_category="cs.LG",
                comment="",
                journal_ref="",
                doi="",
                links="[]",
                fetch_attempts=0,
                created_at=created,
            ),
            dict(
                group_id=i % groups + 1,
                paper_id=i + 1,
                member_id=rng.randint(1, MEMBERS),
                why="",
                status=status,
                card_pending=False,
                created_at=created,
                status_changed_at=created,
                presented_at=created + timedelta(days=7) if status == "presented" else None,
            ),
            voters,
        )


def seed(engine: sa.Engine, corpus: Corpus, papers: int, groups: int) -> None:
    """Bulk-load the data set (COPY on PostgreSQL, executemany on SQLite); the
    vote counts (when the schema keeps them) are written with the proposals.
    The triggers whose work can be done once after the load are off during it
    (votes and status counts; on SQLite the FTS5 table too, rebuilt after, as
    migration 0007 builds it for a database that has papers) and the search
    indexes are built after it; PostgreSQL's copy of each paper's vector to its
    proposals is the trigger's, row by row."""
    rng = random.Random(7)
    pg = engine.dialect.name == "postgresql"
    with engine.connect() as c:
        proposal_cols = {col["name"] for col in sa.inspect(c).get_columns("proposals")}
    counted = "votes" in proposal_cols
    with engine.begin() as c:
        c.execute(
            sa.text(
                "INSERT INTO groups (platform, workspace, channel, name, organizers, created_at) "
                "VALUES ('slack', 'T1', :ch, '', '[]', :t)"
            ),
            [{"ch": f"C{g}", "t": T0} for g in range(groups)],
        )
        c.execute(
            sa.text(
                "INSERT INTO members (platform, workspace, user_id, name, created_at) "
                "VALUES ('slack', 'T1', :u, :n, :t)"
            ),
            [{"u": f"U{m}", "n": f"member {m}", "t": T0} for m in range(1, MEMBERS + 1)],
        )
    with engine.connect() as c:
        tables = set(sa.inspect(c).get_table_names())
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        gin: list[tuple[str, str]] = []
        triggers: list[str] = []
        if pg:
            cur.execute("SET maintenance_work_mem = '1GB'")
            # the search indexes (papers' before 0007_search_index, proposals'
            # after it): built once, after the load
            cur.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE indexname IN "
                "('ix_papers_search', 'ix_proposals_search') AND schemaname = current_schema()"
            )
            gin = [(str(n), str(d)) for n, d in cur.fetchall()]
            for name, _ in gin:
                cur.execute(f"DROP INDEX {name}")
            if counted:
                cur.execute("ALTER TABLE votes DISABLE TRIGGER votes_count")
            if "proposal_counts" in tables:
                cur.execute("ALTER TABLE proposals DISABLE TRIGGER proposals_count")
        else:
            cur.execute("BEGIN")  # the driver is in autocommit (storage.engine)
            # every trigger (vote counts, the FTS5 table, the status counts) is
            # off during the load and its work done once after it, as the
            # migrations do for a database that has rows (0006-0008)
            cur.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                "AND tbl_name IN ('papers', 'proposals', 'votes')"
            )
            for name, sql in cur.fetchall():
                cur.execute(f"DROP TRIGGER {name}")
                triggers.append(sql)
        batch: list[tuple[dict[str, Any], dict[str, Any], list[int]]] = []
        for row in _rows(corpus, papers, groups, rng):
            batch.append(row)
            if len(batch) == 20_000:
                _load(cur, batch, pg, counted)
                batch = []
        if batch:
            _load(cur, batch, pg, counted)
        if "proposal_counts" in tables:
            cur.execute(
                "INSERT INTO proposal_counts (group_id, status, n) "
                "SELECT group_id, status, count(*) FROM proposals GROUP BY group_id, status"
            )
        if pg:
            if counted:
                cur.execute("ALTER TABLE votes ENABLE TRIGGER votes_count")
            if "proposal_counts" in tables:
                cur.execute("ALTER TABLE proposals ENABLE TRIGGER proposals_count")
            for _, definition in gin:
                cur.execute(definition)
            raw.commit()
        else:
            for sql in triggers:
                cur.execute(sql)
            if "papers_search" in tables:
                cur.execute("INSERT INTO papers_search(papers_search) VALUES ('rebuild')")
            cur.execute("COMMIT")
    finally:
        raw.close()
    settle(engine)


def _load(cur: Any, batch: list[Any], pg: bool, counted: bool) -> None:
    papers = [p for p, _, _ in batch]
    proposals = [dict(q, votes=len(v)) if counted else q for _, q, v in batch]
    votes = [
        dict(proposal_id=q["paper_id"], member_id=m, created_at=q["created_at"])
        for _, q, v in batch
        for m in v
    ]
    for name, rows in (("papers", papers), ("proposals", proposals), ("votes", votes)):
        if not rows:
            continue
        cols = list(rows[0])
        if pg:
            with cur.copy(f"COPY {name} ({', '.join(cols)}) FROM STDIN") as cp:
                for r in rows:
                    cp.write_row([r[k] for k in cols])
        else:
            marks = ", ".join("?" for _ in cols)
            cur.executemany(
                f"INSERT INTO {name} ({', '.join(cols)}) VALUES ({marks})",
                [tuple(_sqlite(r[k]) for k in cols) for r in rows],
            )


def _sqlite(v: Any) -> Any:
    # stored as SQLAlchemy's DateTime(timezone=True) stores them on SQLite
    return v.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, datetime) else v


def settle(engine: sa.Engine) -> None:
    """On PostgreSQL, the statistics and visibility map a database in use has
    (autovacuum keeps them; it would otherwise run during the measurement).
    SQLite is measured as the bot leaves it (no ANALYZE)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(sa.text("VACUUM ANALYZE"))
