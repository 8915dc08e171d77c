"""Start-up: how long ``readgroup console`` takes to answer ``/help`` and quit,
against the floor of importing what it really needs, measured in the same run.

    .venv/bin/python bench/startup_bench.py [--rounds 7]

The floor is a bare interpreter importing the libraries the console cannot
do without to answer /help (settings: pydantic-settings; the database:
SQLAlchemy and SQLModel; the reminder loop it starts: APScheduler) and opening
the same SQLite file; the goal is the console within 1.2x of it. arXiv's
client (the arxiv package, requests, lxml) is not in the floor: the console
loads it at the first paper it looks up, not to answer /help. Runs are
interleaved (floor, console, floor, ...) so a busy machine slows both alike;
the medians are compared. Our modules are compiled to bytecode first, as an
install does (the libraries' already are). It also lists the packages the
console loaded that /help does not need: none may be among them. Writes
bench/results/startup.json.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import compile_bytecode, table, write_result  # noqa: E402
from tests.lazy_imports import AT_FIRST_USE  # noqa: E402

PYTHON = sys.executable
READGROUP = str(Path(PYTHON).with_name("readgroup"))
#: What answering /help needs: settings, the database, the reminder loop.
FLOOR_PACKAGES = ("pydantic_settings", "sqlalchemy", "sqlmodel", "apscheduler.schedulers.asyncio")
FLOOR = (
    "import sqlite3, sys\n"
    f"import {', '.join(FLOOR_PACKAGES)}\n"
    "sqlite3.connect(sys.argv[1]).execute('select 1')\n"
)
#: Packages the console does not need to answer /help: the LLM, migrations,
#: the platforms' SDKs, calendars, arXiv's client, templates, LaTeX.
HEAVY = (*AT_FIRST_USE, "slack_bolt", "slack_sdk", "discord")
GOAL = 1.2


def _env(db: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}
    env.update(DATABASE_URL=f"sqlite:///{db}", OPENAI_API_KEY="")
    return env


def _time(cmd: list[str], env: dict[str, str], stdin: str = "") -> float:
    started = time.perf_counter()
    subprocess.run(cmd, input=stdin, text=True, env=env, capture_output=True, check=True)
    return time.perf_counter() - started


def _loaded(env: dict[str, str]) -> list[str]:
    done = subprocess.run(
        [PYTHON, "-X", "importtime", "-m", "adapters.cli", "console"],
        input="/help\n",
        text=True,
        env=env,
        capture_output=True,
        check=True,
        cwd=ROOT,
    )
    names = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    return sorted(h for h in HEAVY if h in names)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    compiled = compile_bytecode()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "startup.db"
        env = _env(db)
        _time([READGROUP, "console"], env, "/help\n")  # creates the schema: not timed
        bare, floor, ours = [], [], []
        for _ in range(args.rounds):
            bare.append(_time([PYTHON, "-c", "pass"], env))
            floor.append(_time([PYTHON, "-c", FLOOR, str(db)], env))
            ours.append(_time([READGROUP, "console"], env, "/help\n"))
        loaded = _loaded(env)
    med = {
        name: statistics.median(xs)
        for name, xs in (("bare", bare), ("floor", floor), ("console", ours))
    }
    ratio = med["console"] / med["floor"]
    result = {
        "rounds": args.rounds,
        "bare_interpreter_s": round(med["bare"], 3),
        "import_floor_s": round(med["floor"], 3),
        "console_help_s": round(med["console"], 3),
        "ratio_to_floor": round(ratio, 2),
        "goal_ratio": GOAL,
        "heavy_packages_loaded": loaded,
        "baseline": f"python importing {', '.join(FLOOR_PACKAGES)} "
        "and opening the same SQLite file, interleaved with the console runs",
        "bytecode": compiled,
    }
    write_result("startup", result)
    print(
        table(
            [
                ["bare interpreter (python -c pass)", f"{med['bare']:.3f} s", ""],
                ["import floor (baseline)", f"{med['floor']:.3f} s", ""],
                [
                    "readgroup console, /help, quit",
                    f"{med['console']:.3f} s",
                    f"{ratio:.2f}x floor",
                ],
                ["packages loaded that /help does not need", ", ".join(loaded) or "none", ""],
            ],
            ["medians of " + str(args.rounds) + " interleaved runs", "wall", "ratio"],
        )
    )
    print(f"floor: {result['baseline']}; {compiled}")
    ok = ratio <= GOAL and not loaded
    print("OK" if ok else f"NOT met: goal <= {GOAL}x the floor and no heavy package loaded")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
