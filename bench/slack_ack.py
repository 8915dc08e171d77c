"""Slack: how long `/propose` takes to be acknowledged by our app, against a
bare Bolt app that only acks, in the same run (goal: median and p99 ratio
at most 1.5).

Each app runs in its own process (so our app's background work — database,
arXiv fetch, card posting — costs our app, not the baseline), both against
the same loopback fake Slack Web API and fake arXiv, both served by aiohttp
through Bolt's ``AsyncApp``. The client sends signed requests one at a time,
alternating between the two apps, and times each until the HTTP response.

    .venv/bin/python bench/slack_ack.py [--requests 1000] [--warmup 20]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import summary_ms, table, write_result

SECRET = "bench-signing-secret"
GOAL = 1.5


# ------------------------------------------------------------------ servers
async def _serve_ours(api: str, arxiv: str, db: str) -> None:
    from pydantic import SecretStr

    from adapters.slack.app import build_slack_app
    from adapters.slack.client import make_web_client
    from adapters.slack.serve import start_http
    from bot.app import build_bot
    from bot.infra.settings import Settings

    settings = Settings(
        DATABASE_URL=db,
        ARXIV_API_URL=arxiv,
        SLACK_API_URL=api,
        _env_file=None,  # type: ignore[call-arg]
    ).model_copy(update={"slack_bot_token": SecretStr("xoxb-bench")})
    bot = build_bot(settings)
    adapter = build_slack_app(bot, make_web_client(settings), signing_secret=SECRET)
    bot.start()  # the arXiv retry loop, as in production
    _runner, port = await start_http(adapter, host="127.0.0.1", port=0)
    dump = os.environ.get("READGROUP_BENCH_ARXIV_LOG")
    if dump:
        # On SIGTERM, leave the arXiv client's own record of when each request
        # started (its gate's times, free of loopback jitter) for the benchmark.
        def leave_log() -> None:
            log = [[t, ids] for t, ids in bot.arxiv.request_log]
            Path(dump).write_text(json.dumps(log))
            os._exit(0)

        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, leave_log)
    print(f"PORT {port}", flush=True)
    await asyncio.Event().wait()


async def _serve_bare(api: str) -> None:
    from aiohttp import web
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    app = AsyncApp(client=AsyncWebClient(token="xoxb-bench", base_url=api), signing_secret=SECRET)

    @app.command(re.compile(".*"))
    async def only_ack(ack) -> None:  # type: ignore[no-untyped-def]
        await ack()

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    web_app = web.Application()
    web_app.router.add_post("/slack/events", events)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    print(f"PORT {port}", flush=True)
    await asyncio.Event().wait()


def _spawn(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", *args],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
        env={**os.environ, **(env or {})},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("PORT "):
        proc.kill()
        raise RuntimeError(f"server did not start: {line!r}")
    return proc, int(line.split()[1])


# ------------------------------------------------------------------ client
def _signed(body: str) -> dict[str, str]:
    ts = str(int(time.time()))
    sig = hmac.new(SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={sig}",
        "Content-Type": "application/x-www-form-urlencoded",
    }


async def _measure(requests: int, warmup: int, ours: int, bare: int, hook: str, ids: list[str]):  # type: ignore[no-untyped-def]
    samples: dict[str, list[float]] = {"ours": [], "bare": []}
    async with aiohttp.ClientSession() as http:
        for i in range(warmup + requests):
            body = urlencode(
                {
                    "team_id": "T111",
                    "channel_id": "C111",
                    "user_id": f"U{i % 25:03d}",
                    "user_name": f"user{i % 25}",
                    "command": "/propose",
                    "text": f"https://arxiv.org/abs/{ids[i % len(ids)]} worth a read",
                    "response_url": hook,
                    "trigger_id": f"{i}.1.x",
                }
            )
            order = [("ours", ours), ("bare", bare)]
            if i % 2:
                order.reverse()  # neither app always goes first
            for name, port in order:
                start = time.perf_counter()
                async with http.post(
                    f"http://127.0.0.1:{port}/slack/events", data=body, headers=_signed(body)
                ) as resp:
                    await resp.read()
                    assert resp.status == 200, (name, resp.status)
                if i >= warmup:
                    samples[name].append(time.perf_counter() - start)
    return samples


async def _bench(requests: int, warmup: int) -> dict[str, object]:
    from tests.fakes.arxiv_server import FakeArxiv
    from tests.fakes.slack_api import FakeSlack

    fake_slack = await FakeSlack().start()
    with FakeArxiv() as arxiv, tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{tmp}/bench.db"
        ours, ours_port = await asyncio.to_thread(_spawn, "ours", fake_slack.url, arxiv.url, db)
        bare, bare_port = await asyncio.to_thread(_spawn, "bare", fake_slack.url)
        try:
            samples = await _measure(
                requests,
                warmup,
                ours_port,
                bare_port,
                fake_slack.response_url("bench"),
                arxiv.known_ids(),
            )
        finally:
            for proc in (ours, bare):
                proc.terminate()
                proc.wait(10)
        arxiv_requests = len(arxiv.requests)
    posted = len(fake_slack.calls_to("chat.postMessage")) + len(fake_slack.calls_to("response_url"))
    await fake_slack.stop()
    ours_s, bare_s = summary_ms(samples["ours"]), summary_ms(samples["bare"])
    return {
        "requests_each": requests,
        "warmup_each": warmup,
        "ours": ours_s,
        "bare_bolt": bare_s,
        "ratio_median": round(ours_s["median_ms"] / bare_s["median_ms"], 3),
        "ratio_p99": round(ours_s["p99_ms"] / bare_s["p99_ms"], 3),
        "goal_ratio": GOAL,
        "our_app_background": {"arxiv_requests": arxiv_requests, "replies_sent": posted},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--requests",
        type=int,
        default=1000,
        help="timed requests per app (p99 is then the 10th worst: stable on a noisy machine)",
    )
    parser.add_argument("--warmup", type=int, default=20, help="untimed requests per app first")
    parser.add_argument("--serve", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        kind, *rest = args.serve
        asyncio.run(_serve_ours(*rest) if kind == "ours" else _serve_bare(*rest))
        return 0
    result = asyncio.run(_bench(args.requests, args.warmup))
    ours, bare = result["ours"], result["bare_bolt"]
    assert isinstance(ours, dict) and isinstance(bare, dict)
    print(
        table(
            [
                ["our app", ours["median_ms"], ours["p95_ms"], ours["p99_ms"]],
                ["bare Bolt", bare["median_ms"], bare["p95_ms"], bare["p99_ms"]],
                ["ratio", result["ratio_median"], "", result["ratio_p99"]],
            ],
            ["/propose ack", "median ms", "p95 ms", "p99 ms"],
        )
    )
    path = write_result("slack_ack", result)
    ok = result["ratio_median"] <= GOAL and result["ratio_p99"] <= GOAL  # type: ignore[operator]
    print(f"goal ratio <= {GOAL}: {'met' if ok else 'NOT met'}; wrote {path}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
