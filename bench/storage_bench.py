"""Storage: /queue and /history with 10,000 papers in 100 groups, on SQLite and
PostgreSQL. p95 per query (goal: at most 20 ms), against a primary-key lookup
measured in the same run as the baseline.

    .venv/bin/python bench/storage_bench.py [--papers 10000] [--groups 100]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import PG_URL, summary_ms, table, write_result
from bot.papers import proposals as svc
from storage.engine import make_engine, upgrade
from storage.groups.tables import Group, Member
from storage.papers.tables import Paper, PaperStatus, Proposal, Vote

WORDS = [
    "attention",
    "graph",
    "diffusion",
    "transformer",
    "sparse",
    "kernel",
    "bayesian",
    "policy",
    "reward",
    "vision",
    "language",
    "token",
    "scaling",
    "retrieval",
    "memory",
    "optimizer",
    "gradient",
    "contrastive",
]
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def seed(engine: sa.Engine, papers: int, groups: int, rng: random.Random) -> list[int]:
    """Insert the data set with bulk inserts; returns the group ids."""
    with Session(engine) as s:
        gs = [
            Group(platform="slack", workspace="T1", channel=f"C{i}", created_at=T0)
            for i in range(groups)
        ]
        s.add_all(gs)
        ms = [
            Member(
                platform="slack", workspace="T1", user_id=f"U{i}", name=f"user {i}", created_at=T0
            )
            for i in range(200)
        ]
        s.add_all(ms)
        s.flush()
        paper_rows = []
        for i in range(papers):
            words = rng.sample(WORDS, 4)
            paper_rows.append(
                dict(
                    arxiv_id=f"{2000 + i // 99999}.{i % 99999:05d}",
                    version=1,
                    status=PaperStatus.READY,
                    title=f"{words[0].title()} {words[1]} for {words[2]} #{i}",
                    authors=[f"Author {rng.randint(1, 5000)}", f"Author {rng.randint(1, 5000)}"],
                    abstract=" ".join(rng.choice(WORDS) for _ in range(150)),
                    categories=["cs.LG"],
                    primary_category="cs.LG",
                    comment="",
                    journal_ref="",
                    doi="",
                    links=[],
                    fetch_attempts=0,
                    created_at=T0,
                )
            )
        s.execute(sa.insert(Paper), paper_rows)
        paper_ids = list(s.execute(sa.select(Paper.id).order_by(Paper.id)).scalars())
        statuses = ["open"] * 6 + ["presented", "withdrawn", "scheduled"]
        prop_rows = [
            dict(
                group_id=gs[i % groups].id,
                paper_id=pid,
                member_id=ms[rng.randrange(200)].id,
                why="",
                status=rng.choice(statuses),
                card_pending=False,
                created_at=T0 + timedelta(minutes=i),
            )
            for i, pid in enumerate(paper_ids)
        ]
        s.execute(sa.insert(Proposal), prop_rows)
        prop_ids = list(s.execute(sa.select(Proposal.id)).scalars())
        vote_rows = []
        for pid in prop_ids:
            for mid in rng.sample(range(1, 201), rng.randint(0, 6)):
                vote_rows.append(dict(proposal_id=pid, member_id=mid, created_at=T0))
        s.execute(sa.insert(Vote), vote_rows)
        s.commit()
        return [g.id for g in gs if g.id is not None]


def settle(engine: sa.Engine) -> None:
    """On PostgreSQL, give the planner the statistics a database in use has
    (autovacuum keeps them): the bulk insert just happened, and autovacuum would
    otherwise analyze and vacuum the new tables in the middle of the measurement.
    SQLite is measured as the bot leaves it (no ANALYZE)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(sa.text("VACUUM ANALYZE"))


def measure(
    engine: sa.Engine, group_ids: list[int], rng: random.Random, n: int
) -> dict[str, dict[str, float]]:
    baseline, queue, history = [], [], []
    with Session(engine) as s:
        for _ in range(20):  # warm-up: caches, prepared plans
            svc.queue(session=s, group_id=rng.choice(group_ids))
        for _ in range(n):
            gid = rng.choice(group_ids)
            t = time.perf_counter()
            s.get(Group, gid)
            s.expire_all()
            baseline.append(time.perf_counter() - t)
            t = time.perf_counter()
            svc.queue(session=s, group_id=gid, limit=10)
            queue.append(time.perf_counter() - t)
            t = time.perf_counter()
            svc.history(session=s, group_id=gid, words=rng.sample(WORDS, 2), limit=10)
            history.append(time.perf_counter() - t)
            s.expire_all()
    return {
        "pk_lookup (baseline)": summary_ms(baseline),
        "/queue": summary_ms(queue),
        "/history 2 words": summary_ms(history),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--papers", type=int, default=10_000)
    ap.add_argument("--groups", type=int, default=100)
    ap.add_argument("--samples", type=int, default=300)
    args = ap.parse_args()
    results: dict[str, object] = {}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        targets = [("sqlite", f"sqlite:///{tmp}/bench.db"), ("postgresql", None)]
        for name, url in targets:
            schema = None
            admin = None
            if url is None:
                admin = sa.create_engine(PG_URL)
                try:
                    with admin.begin() as c:
                        schema = f"bench_{uuid.uuid4().hex[:10]}"
                        c.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
                except Exception as exc:
                    print(f"skipping PostgreSQL: {exc}")
                    continue
                url = f"{PG_URL}?options=-csearch_path%3D{schema}"
            engine = make_engine(url)
            try:
                upgrade(engine)
                rng = random.Random(7)
                t = time.perf_counter()
                gids = seed(engine, args.papers, args.groups, rng)
                seeded = time.perf_counter() - t
                settle(engine)
                res = measure(engine, gids, rng, args.samples)
                results[name] = {"seed_seconds": round(seeded, 1), **res}
                base = res["pk_lookup (baseline)"]["p95_ms"]
                for q, r in res.items():
                    ok = "" if q.startswith("pk") else ("ok" if r["p95_ms"] <= 20 else "OVER GOAL")
                    rows.append(
                        [name, q, r["median_ms"], r["p95_ms"], round(r["p95_ms"] / base, 1), ok]
                    )
            finally:
                engine.dispose()
                if admin is not None and schema:
                    with admin.begin() as c:
                        c.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
                    admin.dispose()
    print(f"{args.papers} papers in {args.groups} groups, {args.samples} samples each")
    print(
        table(
            rows, ["database", "query", "median ms", "p95 ms", "p95 / baseline", "goal p95<=20ms"]
        )
    )
    path = write_result(
        "storage", {"papers": args.papers, "groups": args.groups, "results": results}
    )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
