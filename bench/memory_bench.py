"""Memory: resident size of a real `readgroup serve slack --http` process idle,
against a bare Bolt app idle in the same run (goal: at most 1.6x), and after
N signed commands (goal: no growth after warm-up).

The server is the installed console script in a subprocess, configured only
through the environment (SLACK_API_URL at a loopback fake Slack Web API,
ARXIV_API_URL at a fake arXiv, a temporary SQLite DATABASE_URL, dummy
credentials), exactly as an operator would run it, on a database already at
the current schema (`readgroup db upgrade` first, as after any earlier start;
the very first start also loads Alembic to create the tables). The baseline
is bare Bolt: `AsyncApp` served by aiohttp with one listener that acks (the
slack_ack benchmark's, started the same way), idle, after one request. The
benchmark sends a mix of `/propose` (a few papers, so most are duplicates),
`/queue`, `/history` and `/help`, one at a time, and reads VmRSS from
/proc/<pid>/status every `--every` commands. Growth is the RSS at N commands
minus the RSS at N/2, also given as a least-squares slope in KB per 100
commands over the second half. Beside the goal's baseline it prints the
library floor: a bare interpreter that imports only the libraries the idle
server cannot do without (aiohttp, Bolt, pydantic-settings, SQLAlchemy with
its ORM, SQLModel, APScheduler), so the part that is our own code shows.
Our modules are compiled to bytecode first,
as an install does (compiling ~150 modules from source at start adds about
2 MB that an installed bot does not have).

    .venv/bin/python bench/memory_bench.py [--commands 1000] [--every 100]
    .venv/bin/python bench/memory_bench.py --commands 10000 --every 1000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import compile_bytecode, table, write_result
from bench.slack_ack import _signed, wait_healthy

SECRET = "bench-memory-signing-secret"
#: Idle RSS of ours over bare Bolt's (issue 15, goal 4).
GOAL_RATIO = 1.6
#: Allowed drift between 500 and 1,000 commands: allocator noise, not a leak.
GROWTH_TOLERANCE_MB = 2.0
ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_server(exe: str, port: int, env: dict[str, str], cwd: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [exe, "serve", "slack", "--http", "--port", str(port)],
        env=env,
        cwd=cwd,  # so no project .env is read
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _start_bare(api: str) -> tuple[subprocess.Popen[str], int]:
    """The baseline: slack_ack's bare Bolt app, after one signed request."""
    import urllib.request

    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "slack_ack.py"), "--serve", "bare-http", api],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    port = int(proc.stdout.readline().split()[1])
    body = _command(0, "http://127.0.0.1:9/", ["2401.00001"])
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/slack/events",
        data=body.encode(),
        headers=_signed(body),  # the bare app's secret (bench/slack_ack.py)
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        resp.read()
    time.sleep(1.0)
    return proc, port


#: What an idle `serve slack --http` cannot do without (the library floor).
FLOOR_IMPORTS = (
    "aiohttp.web",
    "slack_bolt.async_app",
    "pydantic_settings",
    "sqlalchemy.orm",
    "sqlmodel",
    "sqlalchemy.dialects.sqlite",
    "apscheduler.schedulers.asyncio",
)


def _library_floor_kb() -> int:
    """RSS of a bare interpreter that imported FLOOR_IMPORTS and waits."""
    code = (
        f"import asyncio, sqlite3, {', '.join(FLOOR_IMPORTS)}\n"
        "print('ready', flush=True)\n"
        "import sys; sys.stdin.read()\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdin is not None
    proc.stdout.readline()
    time.sleep(0.5)
    try:
        return rss_kb(proc.pid)
    finally:
        proc.stdin.close()
        proc.wait(15)


def rss_kb(pid: int) -> int:
    """VmRSS of a process in KB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def _command(i: int, hook: str, papers: list[str]) -> str:
    kind = i % 4
    name, text = {
        0: ("/propose", f"https://arxiv.org/abs/{papers[i % len(papers)]} memory run"),
        1: ("/queue", ""),
        2: ("/history", ["", "attention", "learning"][i % 3]),
        3: ("/help", ""),
    }[kind]
    return urlencode(
        {
            "team_id": "T111",
            "channel_id": "C111",
            "user_id": f"U{i % 20:03d}",
            "user_name": f"user{i % 20}",
            "command": name,
            "text": text,
            "response_url": f"{hook}mem{i}",
            "trigger_id": f"{i}.1.x",
        }
    )


def _slope_kb(points: list[tuple[int, int]]) -> float:
    """Least-squares KB per 100 commands."""
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    var = sum((x - mx) ** 2 for x, _ in points)
    cov = sum((x - mx) * (y - my) for x, y in points)
    return 0.0 if var == 0 else cov / var * 100


async def _bench(commands: int, every: int) -> dict[str, object]:
    from tests.fakes.arxiv_server import FakeArxiv
    from tests.fakes.slack_api import FakeSlack

    compiled = compile_bytecode()
    exe = shutil.which("readgroup", path=str(Path(sys.executable).parent)) or "readgroup"
    fake_slack = await FakeSlack().start()
    samples: list[tuple[int, int]] = []
    with FakeArxiv() as arxiv, tempfile.TemporaryDirectory() as tmp:
        papers = [p.split("v")[0] for p in arxiv.known_ids()[:5]]
        port = _free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))},
            "DATABASE_URL": f"sqlite:///{tmp}/memory.db",
            "SLACK_API_URL": fake_slack.url,
            "ARXIV_API_URL": arxiv.url,
            "SLACK_BOT_TOKEN": "xoxb-memory-bench",
            "SLACK_SIGNING_SECRET": SECRET,
            "OPENAI_API_KEY": "",
        }
        await asyncio.to_thread(
            subprocess.run,
            [exe, "db", "upgrade"],
            env=env,
            cwd=tmp,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        bare = await asyncio.to_thread(_start_bare, fake_slack.url)
        proc = await asyncio.to_thread(_start_server, exe, port, env, tmp)
        url = f"http://127.0.0.1:{port}"
        try:
            async with aiohttp.ClientSession() as http:
                await wait_healthy(http, proc, port)
                await asyncio.sleep(1.0)
                samples.append((0, rss_kb(proc.pid)))
                bare_kb = rss_kb(bare[0].pid)
                floor_kb = await asyncio.to_thread(_library_floor_kb)
                hook = fake_slack.response_url("")
                for i in range(1, commands + 1):
                    body = _command(i, hook, papers)
                    async with http.post(
                        f"{url}/slack/events", data=body, headers=_signed(body, SECRET)
                    ) as resp:
                        await resp.read()
                        if resp.status != 200:
                            raise RuntimeError(f"command {i}: HTTP {resp.status}")
                    if i % every == 0:
                        await asyncio.sleep(0.3)  # let the replies go out
                        samples.append((i, rss_kb(proc.pid)))
                answered = len({c.path for c in fake_slack.calls if c.method == "response_url"})
                posted = len(fake_slack.calls_to("chat.postMessage"))
        finally:
            for p in (proc, bare[0]):
                p.terminate()
                try:
                    p.wait(15)
                except subprocess.TimeoutExpired:
                    p.kill()
    await fake_slack.stop()
    by_n = dict(samples)
    half = commands // 2
    second_half = [(n, kb) for n, kb in samples if n >= half]
    peak = max(kb for _, kb in samples)
    return {
        "commands": commands,
        "rss_kb": {str(n): kb for n, kb in samples},
        "idle_mb": round(by_n[0] / 1024, 1),
        "bare_bolt_idle_mb": round(bare_kb / 1024, 1),
        "idle_ratio": round(by_n[0] / bare_kb, 2),
        "goal_ratio": GOAL_RATIO,
        "library_floor_mb": round(floor_kb / 1024, 1),
        "library_floor_imports": list(FLOOR_IMPORTS),
        "ratio_to_library_floor": round(by_n[0] / floor_kb, 2),
        "library_floor_ratio_to_bare_bolt": round(floor_kb / bare_kb, 2),
        "peak_mb": round(peak / 1024, 1),
        "final_mb": round(by_n[commands] / 1024, 1),
        "growth_after_warmup_mb": round((by_n[commands] - by_n[half]) / 1024, 2),
        "slope_kb_per_100": round(_slope_kb(second_half), 1),
        "warmup_commands": half,
        "replies": {"response_url": answered, "chat.postMessage": posted},
        "baseline": "bare Bolt AsyncApp + aiohttp, one acking listener, idle after one request",
        "bytecode": compiled,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=1000)
    parser.add_argument("--every", type=int, default=100, help="sample RSS every N commands")
    args = parser.parse_args()
    r = asyncio.run(_bench(args.commands, args.every))
    rss = r["rss_kb"]
    assert isinstance(rss, dict)
    print(table([[n, round(kb / 1024, 1)] for n, kb in rss.items()], ["commands", "RSS MB"]))
    ratio_ok = r["idle_ratio"] <= GOAL_RATIO  # type: ignore[operator]
    flat_ok = r["growth_after_warmup_mb"] <= GROWTH_TOLERANCE_MB  # type: ignore[operator]
    print(
        table(
            [
                [
                    "idle RSS, ours / bare Bolt (baseline)",
                    f"{r['idle_mb']} / {r['bare_bolt_idle_mb']} MB = {r['idle_ratio']}x",
                    f"<= {GOAL_RATIO}x",
                    ratio_ok,
                ],
                [
                    "library floor (not the goal's baseline): imports only",
                    f"{r['library_floor_mb']} MB = "
                    f"{r['library_floor_ratio_to_bare_bolt']}x bare Bolt; "
                    f"ours {r['ratio_to_library_floor']}x it",
                    "",
                    "",
                ],
                ["peak RSS", f"{r['peak_mb']} MB", "", ""],
                [
                    f"growth {r['warmup_commands']}->{r['commands']}",
                    f"{r['growth_after_warmup_mb']} MB ({r['slope_kb_per_100']} KB/100 cmds)",
                    f"<= {GROWTH_TOLERANCE_MB:g} MB",
                    flat_ok,
                ],
            ],
            ["check", "measured", "goal", "met"],
        )
    )
    print(f"baseline: {r['baseline']}; {r['bytecode']}")
    print(f"library floor: a bare interpreter importing {', '.join(FLOOR_IMPORTS)}")
    r["goals_met"] = bool(ratio_ok and flat_ok)
    path = write_result("memory", r)
    print(f"replies: {r['replies']}; wrote {path}")
    return 0 if r["goals_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
