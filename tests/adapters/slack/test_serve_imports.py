"""`readgroup serve slack` at idle loads neither the other platform's SDK nor
what only some commands use (openai: the LLM client is made at the first
summary; alembic: only to upgrade an old schema; arXiv's client, with the
arxiv package, requests and lxml: at the first paper looked up; Jinja and
YAML: at the first prompt or template rendered; pylatexenc: at the first
abstract with LaTeX in it), nor in HTTP mode the Socket Mode client.
Checked in a fresh interpreter, since this test process has imported
everything."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from storage.engine import make_engine, upgrade
from tests.fakes.slack_api import FakeSlack
from tests.lazy_imports import AT_FIRST_USE
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[3]
UNNEEDED = (*AT_FIRST_USE, "discord")

PROBE = """
import asyncio, json, sys, urllib.request
from adapters.slack.serve import run_slack
from bot.app import Settings

async def main(port):
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_slack(Settings(), socket=False, port=port, host="127.0.0.1", stop=stop)
    )
    while True:
        try:
            await asyncio.to_thread(
                urllib.request.urlopen, f"http://127.0.0.1:{port}/healthz", timeout=5
            )
            break
        except OSError:
            if task.done():
                task.result()
            await asyncio.sleep(0.05)
    print(json.dumps(sorted(sys.modules)))
    stop.set()
    await task

asyncio.run(main(int(sys.argv[1])))
"""


async def test_serve_slack_http_at_idle_loads_no_unneeded_package(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'idle.db'}"
    upgrade(make_engine(url))  # a database from an earlier start
    async with FakeSlack() as fake:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))},
            "DATABASE_URL": url,
            "SLACK_API_URL": fake.url,
            "SLACK_BOT_TOKEN": "xoxb-test-token",
            "SLACK_SIGNING_SECRET": "secret",
            "OPENAI_API_KEY": "sk-not-used",
            "ARXIV_API_URL": "http://127.0.0.1:9/api/query",
        }
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-c", PROBE, str(free_port())],
            env=env,
            cwd=tmp_path,  # no project .env
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 0, done.stderr[-2000:]
    modules = set(json.loads(done.stdout.strip().splitlines()[-1]))
    loaded = {m.split(".")[0] for m in modules}
    assert "slack_bolt" in loaded
    assert loaded.isdisjoint(UNNEEDED), sorted(loaded & set(UNNEEDED))
    # Nor, over HTTP, the Socket Mode client.
    assert not {m for m in modules if m.startswith("slack_sdk.socket_mode")}
