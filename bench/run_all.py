"""Run every benchmark in bench/ (one after another: they time things, so they
must not share the CPU) and print one combined table of the figures against
their goals, from bench/results/*.json.

    .venv/bin/python bench/run_all.py            # run all, then summarise
    .venv/bin/python bench/run_all.py --report   # only summarise the last results
    .venv/bin/python bench/run_all.py --only load_bench memory_bench
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import RESULTS, table

BENCH = Path(__file__).resolve().parent
#: Each script and the result file it writes.
SCRIPTS = {
    "slack_ack": "slack_ack.json",
    "load_bench": "load.json",
    "digest_bench": "digest.json",
    "storage_bench": "storage.json",
    "memory_bench": "memory.json",
    "startup_bench": "startup.json",
}


def _load(name: str) -> dict[str, Any] | None:
    path = RESULTS / name
    return json.loads(path.read_text()) if path.exists() else None


def _ok(flag: bool) -> str:
    return "met" if flag else "NOT met"


def _slack_ack(r: dict[str, Any]) -> list[list[object]]:
    rows: list[list[object]] = []
    for key, label in (("http", "HTTP"), ("socket", "Socket Mode")):
        m = r.get(key)
        if m is None:
            continue
        ours, bare = m["ours"], m["bare_bolt"]
        floor = f"; floor {m['floor']['median_ms']} ms" if "floor" in m else ""
        rows += [
            [
                f"Slack ack {label}: /propose new papers vs bare Bolt (median)",
                f"{ours['median_ms']} vs {bare['median_ms']} ms = {m['ratio_median']}x{floor}",
                f"<= {r['goal_median_ratio']}x",
                _ok(m["ratio_median"] <= r["goal_median_ratio"]),
            ],
            [
                f"Slack ack {label}: /propose new papers vs bare Bolt (p99)",
                f"{ours['p99_ms']} vs {bare['p99_ms']} ms = {m['ratio_p99']}x",
                f"<= {r['goal_p99_ratio']}x",
                _ok(m["ratio_p99"] <= r["goal_p99_ratio"]),
            ],
        ]
    return rows


def _load_rows(r: dict[str, Any]) -> list[list[object]]:
    ack = r["ack"]
    n = r["distinct_papers"]
    return [
        [
            f"Load: {r['commands']} /propose, {r['users']} users, {r['sent_over_s']} s, "
            f"arXiv {r['arxiv_delay_s']:g} s/request: ack max / p99",
            f"{ack['max_ms']} / {ack['p99_ms']} ms",
            "< 3000 ms",
            _ok(ack["max_ms"] < 3000),
        ],
        [
            "Load: cards delivered",
            f"{r['cards_delivered']} of {n} papers ({r['card_posts']} posts), "
            f"+{r['private_replies_to_commands']} private answers",
            "all, once each",
            _ok(r["cards_delivered"] == n == r["card_posts"]),
        ],
        [
            "Load: commands answered (card or private answer)",
            f"{min(r['commands_answered'], r['commands'])} of {r['commands']}"
            + (
                f" (+{r['commands_answered'] - r['commands']} told privately arXiv was slow)"
                if r["commands_answered"] > r["commands"]
                else ""
            ),
            "all",
            _ok(r["commands_answered"] >= r["commands"]),
        ],
        [
            "Load: arXiv requests / min start-to-start gap (client)",
            f"{r['arxiv_requests']} / {r['arxiv_min_start_gap_s']} s",
            f"<= {n} / >= 3 s",
            _ok(r["arxiv_requests"] <= n and (r["arxiv_min_start_gap_s"] or 3) >= 3),
        ],
        *(
            [
                f"Load: card wait, {label} (from the ack; baseline arXiv's answer "
                f"time, median {r['arxiv_answer_s']['median']} s)",
                f"{g['n']} cards: median {g['median_s']} s, max {g['max_s']} s, "
                f"max {g['max_ratio']}x goal, {g['within_goal']} within",
                goal,
                _ok(g["within_goal"] == g["n"]),
            ]
            for label, key, goal in (
                ("idle", "idle", "<= answer + 0.1 s"),
                ("request in flight", "in_flight", "<= 3 s + answer"),
                ("none in flight, last start < 3 s ago", "gate_closed", "<= 3 s + answer"),
            )
            if (g := r["card_wait"][key])["n"]
        ),
    ]


def _digest(r: dict[str, Any]) -> list[list[object]]:
    one, conc = r["one_llm_call_s"], r["concurrency"]
    rows: list[list[object]] = []
    for run in r["runs"]:
        p, wall = run["papers"], run["first_digest_s"]
        fits = p <= conc
        rows.append(
            [
                f"Digest: {p} paper{'s' if p > 1 else ''}, LLM 1 s/call",
                f"{wall} s = {wall / one:.2f}x one call",
                "<= 1.5x" if fits else f"n/a (> {conc} in flight: ~{-(-p // conc)} rounds)",
                _ok(wall / one <= 1.5) if fits else "as expected",
            ]
        )
    wide = r.get("sixteen_at_8")
    if wide is not None:
        wall = wide["first_digest_s"]
        rows.append(
            [
                "Digest: 16 papers at READGROUP_LLM_CONCURRENCY=8, LLM 1 s/call",
                f"{wall} s = {wall / one:.2f}x one call (peak {wide['max_concurrent_requests']})",
                "<= 2.2x",
                _ok(wall / one <= 2.2),
            ]
        )
    return rows


def _storage(r: dict[str, Any]) -> list[list[object]]:
    rows: list[list[object]] = []
    for db, by_scenario in r["results"].items():
        base = by_scenario["baseline"]
        for name, res in by_scenario.items():
            if name == "baseline":
                continue
            where = f"{res['papers']:,} papers in {res['groups']:,} group" + (
                "s" if res["groups"] > 1 else ""
            )
            for query in ("/queue", "/history <words>"):
                p95, b = res[query]["p95_ms"], base[query]["p95_ms"]
                rows.append(
                    [
                        f"Storage {db}: {query}, {where}, handler path, p95",
                        f"{p95} ms = {p95 / b:.1f}x the 100-paper group ({b} ms)",
                        "<= 20 ms",
                        _ok(p95 <= 20),
                    ]
                )
    return rows


def _memory(r: dict[str, Any]) -> list[list[object]]:
    return [
        [
            "Memory: serve slack --http idle RSS vs bare Bolt idle",
            f"{r['idle_mb']} vs {r['bare_bolt_idle_mb']} MB = {r['idle_ratio']}x "
            f"(after {r['commands']:,} commands {r['final_mb']} MB)",
            f"<= {r['goal_ratio']}x",
            _ok(r["idle_ratio"] <= r["goal_ratio"]),
        ],
        [
            f"Memory: growth {r['warmup_commands']} -> {r['commands']} commands",
            f"{r['growth_after_warmup_mb']} MB ({r['slope_kb_per_100']} KB/100 commands)",
            "no growth (<= 2 MB)",
            _ok(r["growth_after_warmup_mb"] <= 2),
        ],
    ]


def _startup(r: dict[str, Any]) -> list[list[object]]:
    loaded = r["heavy_packages_loaded"]
    return [
        [
            "Start: readgroup console answers /help and quits, vs the import floor",
            f"{r['console_help_s']} vs {r['import_floor_s']} s = {r['ratio_to_floor']}x",
            f"<= {r['goal_ratio']}x",
            _ok(r["ratio_to_floor"] <= r["goal_ratio"]),
        ],
        [
            "Start: packages loaded that /help does not need (openai, alembic, SDKs, arxiv, ...)",
            ", ".join(loaded) or "none",
            "none",
            _ok(not loaded),
        ],
    ]


ROWS: dict[str, Callable[[dict[str, Any]], list[list[object]]]] = {
    "slack_ack.json": _slack_ack,
    "load.json": _load_rows,
    "digest.json": _digest,
    "storage.json": _storage,
    "memory.json": _memory,
    "startup.json": _startup,
}


def report(
    *, since: datetime | None = None, failed: dict[str, int] | None = None
) -> tuple[str, bool]:
    """The table. With ``since`` (a run), a result written before it, or by a
    script that failed in it, is not shown as a figure: only what this run
    measured is. Without it (``--report``), each row says when it was measured."""
    failed = failed or {}
    by_file = {file: script for script, file in SCRIPTS.items()}
    rows: list[list[object]] = []
    for file, make in ROWS.items():
        script = by_file[file]
        data = _load(file)
        stamp = data.get("measured_at") if data is not None else None
        measured = datetime.fromisoformat(stamp) if stamp else None
        fresh = measured is not None and (since is None or measured >= since)
        if script in failed and not fresh:  # crashed before writing its result
            rows.append([script, f"not measured: the script exited {failed[script]}", "", "failed"])
            continue
        if data is None:
            rows.append([script, "no result yet", "", "missing"])
            continue
        if not fresh:
            rows.append([script, "not measured in this run", "", "not run"])
            continue
        made = make(data)
        if since is None:
            when = stamp or "an unrecorded time"
            made = [[f"{r[0]} (as of {when})", *r[1:]] for r in made]
        rows.extend(made)
    ok = all(r[3] in ("met", "as expected") for r in rows)
    return table(rows, ["benchmark", "measured", "goal", ""]), ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", action="store_true", help="only summarise the last results")
    parser.add_argument("--only", nargs="+", choices=sorted(SCRIPTS), help="run just these")
    args = parser.parse_args()
    failed: dict[str, int] = {}
    since = None
    if not args.report:
        # measured_at is written to the second; a result of this run is never older
        since = datetime.now(UTC).replace(microsecond=0)
        for script in args.only or SCRIPTS:
            print(f"== {script}", flush=True)
            start = time.monotonic()
            rc = subprocess.call([sys.executable, str(BENCH / f"{script}.py")], cwd=BENCH.parent)
            print(f"== {script}: exit {rc} after {time.monotonic() - start:.0f} s\n", flush=True)
            if rc:
                failed[script] = rc
    text, ok = report(since=since, failed=failed)
    print(text)
    if failed:
        print(f"benchmarks that exited non-zero (crashed or missed a goal): {', '.join(failed)}")
    return 0 if ok and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
