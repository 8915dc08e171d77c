"""Two processes starting at once on an empty database: how many crash?

Each run starts a pair of real processes against a brand-new SQLite file or
PostgreSQL schema, both doing ``readgroup db upgrade`` (or ``readgroup console``
with ``/help`` piped in), and counts a crash when either exits non-zero; the
schema left behind must match the tables. By default both processes import
everything first and then wait on a shared start signal, so their upgrades
begin within a millisecond of each other (``--no-sync``: started one after the
other, as a user would).

    .venv/bin/python bench/upgrade_race.py [--runs 20] [--db sqlite,postgresql]
        [--how db|console] [--no-sync]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import PG_URL  # noqa: E402

#: Imports what the CLI needs, waits for the start file, then runs the CLI.
STARTER = """
import os, sys, time
import alembic.command, sqlalchemy, sqlmodel
import storage.all_tables, storage.engine
from adapters.cli import main
if sys.argv[1] != "-":
    while not os.path.exists(sys.argv[1]):
        time.sleep(0.0005)
sys.exit(main(sys.argv[2:]))
"""


@dataclass(frozen=True)
class Outcome:
    codes: tuple[int, ...]
    errors: tuple[str, ...]  # the last line of each crashed process's stderr
    schema: list[str]  # what is wrong with the schema left behind

    @property
    def crashed(self) -> int:
        return sum(code != 0 for code in self.codes)


@contextmanager
def empty_database(db: str) -> Iterator[str]:
    """A URL to a database with nothing in it, removed afterwards."""
    if db == "sqlite":
        with tempfile.TemporaryDirectory(prefix="readgroup-race-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'readgroup.db'}"
        return
    schema = f"race_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def schema_problems(url: str) -> list[str]:
    """Empty when the database is at every head and matches the tables."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlmodel import SQLModel

    import storage.all_tables  # noqa: F401
    from storage.engine import alembic_config, make_engine
    from storage.papers.search import include_object

    engine = make_engine(url)
    try:
        heads = set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())
        with engine.connect() as conn:
            ctx = MigrationContext.configure(
                conn, opts={"compare_type": True, "include_object": include_object}
            )
            current = set(ctx.get_current_heads())
            diff = compare_metadata(ctx, SQLModel.metadata)
    finally:
        engine.dispose()
    out = [f"at revision {sorted(current)}, not {sorted(heads)}"] if current != heads else []
    return out + [f"differs from the tables: {d}" for d in diff]


def _error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines() or ["(no output)"]
    return next((line for line in reversed(lines) if "Error" in line), lines[-1])[:200]


#: Starts one process: (CLI arguments, environment, working directory, start
#: file or "-") -> a Popen-like object with stdin and stderr piped as text.
Starter = Callable[[list[str], dict[str, str], str, str], Any]


def _interpreter(argv: list[str], env: dict[str, str], cwd: str, go: str) -> Any:
    """A fresh interpreter that imports everything, then waits for ``go``."""
    return subprocess.Popen(
        [sys.executable, "-c", STARTER, go, *argv],
        cwd=cwd,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_pair(
    url: str,
    *,
    how: str = "db",
    sync: bool = True,
    timeout: float = 120,
    start: Starter = _interpreter,
    settle: float = 1.5,
) -> Outcome:
    """Two processes on ``url`` at once; their exit codes and the schema after.

    ``start`` makes each process (the tests pass one that forks them from
    already-imported modules); with ``sync``, the start file appears
    ``settle`` seconds after both were started, once both wait on it."""
    argv = ["db", "upgrade"] if how == "db" else ["console", "--user", "racer"]
    env = {**os.environ, "DATABASE_URL": url, "READGROUP_ORGANIZERS": "", "PYTHONPATH": str(ROOT)}
    env.pop("OPENAI_API_KEY", None)
    with tempfile.TemporaryDirectory(prefix="readgroup-go-") as tmp:
        go = str(Path(tmp) / "go") if sync else "-"
        # Nothing in the working directory (no .env) but the start file.
        procs = [start(argv, env, tmp, go) for _ in range(2)]
        if sync:
            time.sleep(settle)  # both have imported everything by now (or soon after)
            Path(go).touch()
        results = [p.communicate("/help\n", timeout=timeout) for p in procs]
    errors = tuple(
        _error_line(err) for p, (_out, err) in zip(procs, results, strict=True) if p.returncode
    )
    codes = tuple(p.returncode for p in procs)
    return Outcome(codes, errors, schema_problems(url))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--how", choices=["db", "console"], default="db")
    parser.add_argument("--no-sync", dest="sync", action="store_false")
    args = parser.parse_args(argv)
    bad = 0
    for db in args.db.split(","):
        crashes = broken = 0
        for _ in range(args.runs):
            with empty_database(db) as url:
                outcome = run_pair(url, how=args.how, sync=args.sync)
            crashes += outcome.crashed > 0
            broken += bool(outcome.schema)
            for line in (*outcome.errors, *outcome.schema):
                print(f"  {db}: {line}")
        mode = "at the same instant" if args.sync else "one after the other"
        print(
            f"{db}: {crashes} crashes of {args.runs} runs ({args.how}, started {mode}); "
            f"{broken} left a wrong schema"
        )
        bad += crashes + broken
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
