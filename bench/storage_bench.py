"""Storage growth: /queue and /history through the real handler path (the
router, the command handler, one fresh database session per command, as the
console or Slack calls it) on SQLite and PostgreSQL, in two scenarios:

* ``one_group``: 100,000 papers in one group;
* ``many_groups``: 1,000,000 papers over 10,000 groups (100 each).

Text is realistic: each paper's abstract is 5 to 9 sentences drawn from the
real arXiv abstracts in ``tests/fixtures/arxiv/atom`` (one word in twelve
swapped for another word of that vocabulary, so no two rows are alike), its
title a real title with some words swapped, its authors real names. /history
looks for one or two words of the real titles (a third of the time the last
one cut short, as someone typing).

Baseline, measured in the same run on the same database engine: the same
commands through the same handler path on a database holding one group of
100 such papers. Goal: p95 <= 20 ms for each command (printed beside the
ratio to the baseline).

    .venv/bin/python bench/storage_bench.py                     # both scenarios, both databases
    .venv/bin/python bench/storage_bench.py --scenarios one_group --dbs sqlite
    .venv/bin/python bench/storage_bench.py --code /tmp/readgroup_main --label before \\
        --result storage_before                                 # the same bench on other code

``--code DIR`` imports ``bot`` and ``storage`` from another checkout (e.g.
``git archive main | tar -x -C DIR``), so the old query path is measured on
its own schema with the same data (same seed). Seeded databases are kept
(SQLite files in ``--cache``, PostgreSQL schemas ``bench_growth_*`` in the
test database) and reused while the schema and the generator are unchanged;
``--fresh`` seeds again.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

# The benchmark's own modules come from this checkout even with ``--code``
# (imported before it goes first on the path); ``bot`` and ``storage`` are
# imported later, from it.
from bench.common import PG_URL, summary_ms, table, write_result  # noqa: E402
from bench.storage_seed import (  # noqa: E402
    MEMBERS,
    Corpus,
    history_words,
    load_corpus,
    schema_key,
    seed,
)

if "--code" in sys.argv:
    sys.path.insert(0, str(Path(sys.argv[sys.argv.index("--code") + 1]).resolve()))

#: Bump when the generated data changes (cached databases are seeded again).
GENERATOR = 4
#: ``smoke``: a quick check that the script runs (not a figure of the goal).
SCENARIOS = {
    "one_group": (100_000, 1),
    "many_groups": (1_000_000, 10_000),
    "smoke": (5_000, 10),
}
BASELINE = (100, 1)


# -- databases ------------------------------------------------------------------------


def database(
    db: str, name: str, papers: int, groups: int, corpus: Corpus, cache: Path, fresh: bool
) -> tuple[str, float | None]:
    """The URL of a seeded database (cached when it exists), and seconds spent seeding."""
    from storage.engine import make_engine, upgrade
    from storage.schema_version import heads

    key = f"{name}_{papers}_{groups}_g{GENERATOR}_{schema_key(heads())}"
    if db == "sqlite":
        cache.mkdir(parents=True, exist_ok=True)
        path = cache / f"{key}.db"
        if path.exists() and not fresh:
            return f"sqlite:///{path}", None
        work = path.with_suffix(".seeding")
        for p in (work, Path(f"{work}-wal"), Path(f"{work}-shm")):
            p.unlink(missing_ok=True)
        url = f"sqlite:///{work}"
    else:
        schema = f"bench_growth_{key}".lower()
        admin = sa.create_engine(PG_URL)
        with admin.begin() as c:
            done = c.execute(
                sa.text("SELECT obj_description(to_regnamespace(:s)::oid, 'pg_namespace')"),
                {"s": schema},
            ).scalar()
            if done == "seeded" and not fresh:
                admin.dispose()
                return f"{PG_URL}?options=-csearch_path%3D{schema}", None
            c.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            c.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    engine = make_engine(url)
    started = time.perf_counter()
    try:
        upgrade(engine)
        seed(engine, corpus, papers, groups)
    finally:
        engine.dispose()
    took = time.perf_counter() - started
    if db == "sqlite":
        shutil.move(work, path)
        return f"sqlite:///{path}", took
    with admin.begin() as c:
        c.execute(sa.text(f"COMMENT ON SCHEMA \"{schema}\" IS 'seeded'"))
    admin.dispose()
    return url, took


# -- measuring through the handler path ---------------------------------------------


async def measure(
    url: str, groups: int, corpus: Corpus, samples: int, seed_: int
) -> dict[str, dict[str, float]]:
    from bot.app import build_bot
    from bot.chat.events import Actor, Command, Place
    from bot.chat.messenger import NullMessenger
    from bot.chat.replies import Reply, to_plain
    from bot.infra.arxiv_client import ArxivClient
    from bot.infra.settings import Settings
    from storage.engine import make_engine

    settings = Settings(
        DATABASE_URL=url,
        ARXIV_API_URL="http://127.0.0.1:9/",
        READGROUP_ORGANIZERS="",
        _env_file=None,  # type: ignore[call-arg]
    )
    engine = make_engine(url)
    bot = build_bot(
        settings,
        engine=engine,
        arxiv=ArxivClient(api_url=settings.arxiv_api_url),
        messenger=NullMessenger(),
        migrate=False,
    )
    rng = random.Random(seed_)

    async def respond(reply: Reply) -> None:
        raise AssertionError(f"a follow-up was not expected: {to_plain(reply)}")

    async def one(name: str, text: str) -> float:
        g = rng.randrange(groups)
        cmd = Command(
            name,
            text,
            Actor("slack", f"U{rng.randint(1, MEMBERS)}", "bench"),
            Place("slack", "T1", f"C{g}"),
        )
        t = time.perf_counter()
        replies = await bot.handle(cmd, respond)
        took = time.perf_counter() - t
        said = " ".join(to_plain(r) for r in replies)
        if "went wrong" in said or "Sorry" in said or not replies:
            raise RuntimeError(f"/{name} {text}: {said[:300]}")
        return took

    kinds = {
        "/queue": lambda: ("queue", ""),
        "/history <words>": lambda: ("history", history_words(corpus, rng)),
        "/history": lambda: ("history", ""),
    }
    out: dict[str, list[float]] = {k: [] for k in kinds}
    try:
        for make in kinds.values():  # warm-up: caches, the pool, statement caches
            for _ in range(10):
                await one(*make())
        for _ in range(samples):
            for label, make in kinds.items():
                out[label].append(await one(*make()))
    finally:
        await bot.aclose()
        engine.dispose()
    return {k: summary_ms(v) for k, v in out.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenarios", default="one_group,many_groups")
    ap.add_argument("--dbs", default="sqlite,postgresql")
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/readgroup_storage_bench"))
    ap.add_argument("--fresh", action="store_true", help="seed again even if cached")
    ap.add_argument(
        "--seed-only", action="store_true", help="seed (or find) the databases, no timing"
    )
    ap.add_argument("--code", help="import bot and storage from this checkout instead")
    ap.add_argument("--label", default="this code")
    ap.add_argument("--result", default="storage", help="bench/results/<name>.json")
    args = ap.parse_args()
    corpus = load_corpus()
    import bot

    print(f"code: {Path(bot.__file__).resolve().parents[1]} ({args.label})")
    print(
        f"text: {len(corpus.sentences)} sentences of {len(corpus.titles)} real abstracts, "
        f"{len(corpus.vocabulary)} distinct words; /history words from {len(corpus.query_words)} "
        f"title words, e.g. {', '.join(history_words(corpus, random.Random(i)) for i in range(6))}"
    )
    print(
        "baseline: the same commands, same handler path, on a database of one group of "
        f"{BASELINE[0]} papers (same engine, same run)"
    )
    results: dict[str, Any] = {}
    rows = []
    for db in args.dbs.split(","):
        try:
            base_url, _ = database(db, "baseline", *BASELINE, corpus, args.cache, args.fresh)
        except sa.exc.OperationalError as exc:
            print(f"skipping {db}: {str(exc).splitlines()[0]}")
            continue
        if args.seed_only:
            base = {}
        else:
            base = asyncio.run(measure(base_url, BASELINE[1], corpus, args.samples, 11))
        results.setdefault(db, {})["baseline"] = {"papers": BASELINE[0], "groups": 1, **base}
        for name in args.scenarios.split(","):
            papers, groups = SCENARIOS[name]
            url, seeded = database(db, name, papers, groups, corpus, args.cache, args.fresh)
            print(
                f"{db} {name}: " + (f"seeded in {seeded:.0f} s" if seeded else "cached"), flush=True
            )
            if args.seed_only:
                continue
            res = asyncio.run(measure(url, groups, corpus, args.samples, 11))
            results[db][name] = {
                "papers": papers,
                "groups": groups,
                "seed_seconds": round(seeded, 1) if seeded else None,
                **res,
            }
            for q, r in res.items():
                b = base[q]["p95_ms"]
                rows.append(
                    [
                        db,
                        f"{papers:,} papers / {groups:,} group{'s' if groups > 1 else ''}",
                        q,
                        r["median_ms"],
                        r["p95_ms"],
                        b,
                        round(r["p95_ms"] / b, 1),
                        "met" if r["p95_ms"] <= 20 else "NOT met",
                    ]
                )
    if args.seed_only:
        return 0
    print(f"{args.samples} samples per command ({args.label})")
    print(
        table(
            rows,
            [
                "database",
                "scenario",
                "command",
                "p50 ms",
                "p95 ms",
                "baseline p95 ms",
                "p95 / baseline",
                "p95 <= 20 ms",
            ],
        )
    )
    path = write_result(
        args.result,
        {
            "code": args.label,
            "samples": args.samples,
            "baseline": f"one group of {BASELINE[0]} papers, same handler path",
            "results": results,
        },
    )
    print(f"wrote {path}")
    return 0 if all(r[-1] == "met" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
