"""Slack: how long `/propose` of a NEW paper takes to be acknowledged by the
real `readgroup serve slack` process, against a bare Bolt app with default
settings (the baseline), in the same run. Goal: median at most 0.5x and p99 at
most 2x bare Bolt's, over HTTP and over Socket Mode.

HTTP: three processes, each its own, driven alternately with the same signed
requests (the order rotates every round, so no target always goes first):

- ours: `.venv/bin/readgroup serve slack --http`, configured only by the
  environment (SLACK_API_URL at a loopback fake Slack, ARXIV_API_URL at a fake
  arXiv that answers any id, a temporary SQLite DATABASE_URL), as an operator
  runs it: every command is stored in the inbox before the ack, then fetched
  from arXiv (3 s apart, batched, as in production) and carded.
- bare Bolt (the baseline): `AsyncApp` with default settings served by aiohttp,
  a `/propose` listener that only calls ``ack()``.
- floor: a plain aiohttp handler that checks the signature, inserts the same
  payload into its own SQLite file (same engine settings as ours: WAL,
  BEGIN IMMEDIATE, in a worker thread) and returns 200. Not a goal: what
  storing before the ack costs at least.

Every request names a paper never proposed before (the fake arXiv makes one up),
so each one costs our app an arXiv fetch and a card.

Socket Mode: ours (`readgroup serve slack --socket`) and a bare Bolt
`AsyncSocketModeHandler`, each connected to its own fake Socket Mode server
in this process; the time is from the envelope sent to its ack received.

The fakes of the Slack Web API and arXiv run in a process of their own, so the
cards our app posts do not take this process's loop from the timing.

    .venv/bin/python bench/slack_ack.py [--requests 1000] [--socket-requests 500]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import itertools
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import summary_ms, table, write_result

ROOT = Path(__file__).resolve().parents[1]

SECRET = "bench-signing-secret"
GOAL_MEDIAN = 0.5
GOAL_P99 = 2.0
READGROUP = str(Path(sys.executable).with_name("readgroup"))


# ------------------------------------------------------------------ servers
async def _forever() -> None:
    await asyncio.Event().wait()


async def _serve_fakes(*socket_urls: str) -> None:
    """One fake arXiv (synthetic: any id exists) and fake Slack Web APIs: one
    for HTTP mode, then one per Socket Mode URL given, whose
    ``apps.connections.open`` points at that URL (a socket server in the
    measuring process)."""
    from tests.fakes.arxiv_server import FakeArxiv
    from tests.fakes.slack_api import FakeSlack

    class _Redirect:
        def __init__(self, url: str) -> None:
            self.url = url

        async def close(self) -> None:
            return None

    with FakeArxiv(synthetic=True) as arxiv:
        http = await FakeSlack().start()
        sockets = []
        for url in socket_urls:
            fake = FakeSlack()
            fake.socket = _Redirect(url)
            sockets.append(await fake.start())
        print(
            json.dumps(
                {
                    "arxiv": arxiv.url,
                    "slack": http.url,
                    "hook": http.response_url("bench"),
                    "socket_slack": [f.url for f in sockets],
                }
            ),
            flush=True,
        )
        try:
            while True:
                await asyncio.sleep(1.0)
                # For the report: what our app asked arXiv for and posted.
                stats = {
                    "arxiv_requests": len(arxiv.requests),
                    "arxiv_ids": sum(len(r.id_list) for r in arxiv.requests),
                    "arxiv_at": [r.time for r in arxiv.requests],
                    "posts": sum(
                        len(f.calls_to("chat.postMessage")) + len(f.calls_to("response_url"))
                        for f in (http, *sockets)
                    ),
                }
                await asyncio.to_thread(
                    Path(os.environ["BENCH_FAKES_STATS"]).write_text, json.dumps(stats)
                )
        finally:
            for f in (http, *sockets):
                await f.stop()


async def _serve_bare_http(api: str) -> None:
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

    await _listen(web, events)


async def _serve_bare_socket(api: str) -> None:
    from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    client = AsyncWebClient(token="xoxb-bench", base_url=api)
    app = AsyncApp(client=client)

    @app.command(re.compile(".*"))
    async def only_ack(ack) -> None:  # type: ignore[no-untyped-def]
        await ack()

    handler = AsyncSocketModeHandler(app, "xapp-bench", web_client=client)
    await handler.connect_async()
    print("PORT 0", flush=True)
    await _forever()


async def _serve_floor(db: str) -> None:
    """Signature check, one INSERT of the payload in a worker thread, 200."""
    import sqlalchemy as sa
    from aiohttp import web

    from storage.engine import make_engine

    engine = make_engine(db)
    meta = sa.MetaData()
    table_ = sa.Table(
        "floor_inbox",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String, unique=True, nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
    )
    meta.create_all(engine)

    def store(key: str, payload: dict[str, str]) -> None:
        with engine.begin() as conn:
            conn.execute(sa.insert(table_).values(key=key, payload=payload))

    async def events(request: web.Request) -> web.Response:
        raw = await request.read()
        ts = request.headers.get("X-Slack-Request-Timestamp", "")
        sig = request.headers.get("X-Slack-Signature", "")
        want = hmac.new(SECRET.encode(), f"v0:{ts}:".encode() + raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(f"v0={want}", sig):
            return web.Response(status=401)
        await asyncio.to_thread(store, f"{ts}:{sig}", dict(parse_qsl(raw.decode())))
        return web.Response(status=200)

    await _listen(web, events)


async def _listen(web: Any, handler: Any) -> None:
    web_app = web.Application()
    web_app.router.add_post("/slack/events", handler)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    print(f"PORT {port}", flush=True)
    await _forever()


def _spawn(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", *args],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.strip():
        proc.kill()
        raise RuntimeError(f"{args[0]} did not start")
    return proc, line.strip()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _our_env(tmp: str, fakes: dict[str, Any], slack_url: str, **extra: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))},
        "DATABASE_URL": f"sqlite:///{tmp}/ours.db",
        "SLACK_API_URL": slack_url,
        "ARXIV_API_URL": fakes["arxiv"],
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "OPENAI_API_KEY": "",
        **extra,
    }


def _start_ours(args: list[str], env: dict[str, str], cwd: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [READGROUP, "serve", "slack", *args],
        env=env,
        cwd=cwd,  # no project .env is read
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


async def _read_json(path: str) -> dict[str, Any]:
    return dict(json.loads(await asyncio.to_thread(Path(path).read_text)))


async def wait_healthy(http: aiohttp.ClientSession, proc: subprocess.Popen[str], port: int) -> None:
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"readgroup exited: {proc.stderr.read() if proc.stderr else ''}")
        try:
            async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                if resp.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("readgroup did not answer /healthz within 60 s")
        await asyncio.sleep(0.1)


# ------------------------------------------------------------------ client
_paper = itertools.count(1)


def _new_paper() -> str:
    """An arXiv id nobody proposed yet in this run."""
    n = next(_paper)
    return f"25{n // 99999 + 1:02d}.{n % 99999 + 1:05d}"


def _command(i: int, hook: str) -> dict[str, str]:
    return {
        "team_id": "T111",
        "channel_id": "C111",
        "user_id": f"U{i % 25:03d}",
        "user_name": f"user{i % 25}",
        "command": "/propose",
        "text": f"https://arxiv.org/abs/{_new_paper()} worth a read",
        "response_url": f"{hook}{i}",
        "trigger_id": f"{i}.{time.time_ns()}.x",
    }


def _signed(body: str, secret: str = SECRET) -> dict[str, str]:
    """Headers Slack would send with ``body``, signed with ``secret``."""
    ts = str(int(time.time()))
    sig = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={sig}",
        "Content-Type": "application/x-www-form-urlencoded",
    }


#: When each timed request of ours began (time.monotonic, the same clock as
#: the fake arXiv's log): to tell which slow acks followed an arXiv answer.
_began: dict[str, list[float]] = {"http": [], "socket": []}


async def _measure_http(
    requests: int, warmup: int, ports: dict[str, int], hook: str
) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {name: [] for name in ports}
    names = list(ports)
    async with aiohttp.ClientSession() as http:
        for i in range(warmup + requests):
            k = i % len(names)
            for name in names[k:] + names[:k]:  # each target goes first in turn
                body = urlencode(_command(i, hook))
                start = time.perf_counter()
                async with http.post(
                    f"http://127.0.0.1:{ports[name]}/slack/events",
                    data=body,
                    headers=_signed(body),
                ) as resp:
                    await resp.read()
                    assert resp.status == 200, (name, resp.status)
                if i >= warmup:
                    samples[name].append(time.perf_counter() - start)
                    if name == "ours":
                        _began["http"].append(time.monotonic())
    return samples


async def _measure_socket(requests: int, warmup: int, servers: dict[str, Any], hook: str):  # type: ignore[no-untyped-def]
    samples: dict[str, list[float]] = {name: [] for name in servers}
    names = list(servers)
    for i in range(warmup + requests):
        k = i % len(names)
        for name in names[k:] + names[:k]:
            server = servers[name]
            envelope = await server.send("slash_commands", _command(i, hook))
            seconds, _ = await server.ack(envelope, within=30)
            if i >= warmup:
                samples[name].append(seconds)
                if name == "ours":
                    _began["socket"].append(server.sent_at[envelope])
    return samples


def _near_arxiv(
    mode: str, samples: dict[str, list[float]], background: dict[str, Any]
) -> dict[str, int]:
    """Of our acks slower than 2x bare Bolt's p99, how many began within
    0.5 s after a request to arXiv (its answer and the cards that follow)."""
    from bench.common import percentile

    limit = 2 * percentile(samples["bare_bolt"], 99)
    arxiv_at = background.pop("arxiv_at")
    slow = [
        began for began, took in zip(_began[mode], samples["ours"], strict=True) if took > limit
    ]
    near = sum(1 for b in slow if any(0 <= b - a <= 0.5 for a in arxiv_at))
    return {"slow_acks": len(slow), "within_0_5_s_after_arxiv": near}


def _ratios(samples: dict[str, list[float]], base: str) -> dict[str, Any]:
    out: dict[str, Any] = {name: summary_ms(s) for name, s in samples.items()}
    b = out[base]
    out["ratio_median"] = round(out["ours"]["median_ms"] / b["median_ms"], 3)
    out["ratio_p99"] = round(out["ours"]["p99_ms"] / b["p99_ms"], 3)
    return out


async def _bench(requests: int, warmup: int, socket_requests: int) -> dict[str, Any]:
    from tests.fakes.slack_api import FakeSlack
    from tests.fakes.slack_socket import SocketModeServer

    # The socket servers live here (they time the acks); the Web API fakes do not.
    ws: dict[str, SocketModeServer] = {}
    holders: list[FakeSlack] = []
    for name in ("ours", "bare_bolt"):
        holder = FakeSlack()
        ws[name] = SocketModeServer(holder)
        holders.append(await holder.start())
    procs: list[subprocess.Popen[str]] = []
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        stats_file = f"{tmp}/fakes.json"
        try:
            fakes_proc, line = await asyncio.to_thread(
                _spawn,
                "fakes",
                ws["ours"].url,
                ws["bare_bolt"].url,
                env={**os.environ, "BENCH_FAKES_STATS": stats_file},
            )
            procs.append(fakes_proc)
            fakes = json.loads(line)

            # -- HTTP
            port = _free_port()
            ours = _start_ours(
                ["--http", "--port", str(port)],
                _our_env(tmp, fakes, fakes["slack"], SLACK_SIGNING_SECRET=SECRET),
                tmp,
            )
            procs.append(ours)
            bare, bare_line = await asyncio.to_thread(_spawn, "bare-http", fakes["slack"])
            floor, floor_line = await asyncio.to_thread(
                _spawn, "floor", f"sqlite:///{tmp}/floor.db"
            )
            procs += [bare, floor]
            async with aiohttp.ClientSession() as http:
                await wait_healthy(http, ours, port)
            ports = {
                "ours": port,
                "bare_bolt": int(bare_line.split()[1]),
                "floor": int(floor_line.split()[1]),
            }
            samples = await _measure_http(requests, warmup, ports, fakes["hook"])
            result["http"] = _ratios(samples, "bare_bolt")
            result["http"]["floor_vs_bare_median"] = round(
                result["http"]["floor"]["median_ms"] / result["http"]["bare_bolt"]["median_ms"], 3
            )
            await asyncio.sleep(4.0)  # the last arXiv batch and its cards
            result["http"]["our_background"] = await _read_json(stats_file)
            result["http"]["slow"] = _near_arxiv("http", samples, result["http"]["our_background"])
            for proc in (ours, bare, floor):
                proc.terminate()
                proc.wait(15)

            # -- Socket Mode
            if socket_requests:
                ours_s = _start_ours(
                    ["--socket"],
                    _our_env(
                        tmp,
                        fakes,
                        fakes["socket_slack"][0],
                        SLACK_APP_TOKEN="xapp-bench",
                        DATABASE_URL=f"sqlite:///{tmp}/ours-socket.db",
                    ),
                    tmp,
                )
                procs.append(ours_s)
                bare_s, _ = await asyncio.to_thread(_spawn, "bare-socket", fakes["socket_slack"][1])
                procs.append(bare_s)
                for server in ws.values():
                    await server.connected(within=60)
                samples = await _measure_socket(socket_requests, warmup, ws, fakes["hook"] + "sock")
                result["socket"] = _ratios(samples, "bare_bolt")
                await asyncio.sleep(4.0)
                result["socket"]["our_background"] = await _read_json(stats_file)
                result["socket"]["slow"] = _near_arxiv(
                    "socket", samples, result["socket"]["our_background"]
                )
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.terminate()
                    try:
                        proc.wait(15)
                    except subprocess.TimeoutExpired:
                        proc.kill()
            for holder in holders:
                await holder.stop()
    return result


def _rows(label: str, r: dict[str, Any], with_floor: bool) -> list[list[object]]:
    def row(name: str, key: str) -> list[object]:
        s = r[key]
        return [f"{label} {name}", s["median_ms"], s["p95_ms"], s["p99_ms"]]

    rows = [row("ours", "ours"), row("bare Bolt (baseline)", "bare_bolt")]
    if with_floor:
        rows.append(row("floor: aiohttp + INSERT", "floor"))
    rows.append(
        [
            f"{label} ours / bare Bolt",
            f"{r['ratio_median']}x (<= {GOAL_MEDIAN})",
            "",
            f"{r['ratio_p99']}x (<= {GOAL_P99})",
        ]
    )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--requests",
        type=int,
        default=1000,
        help="timed HTTP requests per target (p99 is then the 10th worst)",
    )
    parser.add_argument(
        "--socket-requests", type=int, default=500, help="timed envelopes per app (0: skip)"
    )
    parser.add_argument("--warmup", type=int, default=20, help="untimed requests per target first")
    parser.add_argument("--serve", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        kind, *rest = args.serve
        serve = {
            "fakes": _serve_fakes,
            "bare-http": _serve_bare_http,
            "bare-socket": _serve_bare_socket,
            "floor": _serve_floor,
        }[kind]
        asyncio.run(serve(*rest))
        return 0
    result = asyncio.run(_bench(args.requests, args.warmup, args.socket_requests))
    rows = _rows("HTTP", result["http"], True)
    if "socket" in result:
        rows += _rows("Socket", result["socket"], False)
    print(table(rows, ["/propose (new papers) ack", "median ms", "p95 ms", "p99 ms"]))
    print(
        "baseline: bare Bolt AsyncApp, default settings (process_before_response=False), "
        "a listener that only acks; floor: aiohttp, signature check, one SQLite INSERT"
    )
    ok = all(
        r["ratio_median"] <= GOAL_MEDIAN and r["ratio_p99"] <= GOAL_P99
        for key in ("http", "socket")
        if (r := result.get(key)) is not None
    )
    result.update(
        {
            "requests_each": args.requests,
            "socket_requests_each": args.socket_requests,
            "warmup_each": args.warmup,
            "goal_median_ratio": GOAL_MEDIAN,
            "goal_p99_ratio": GOAL_P99,
            "goals_met": ok,
        }
    )
    path = write_result("slack_ack", result)
    print(f"background of our app (HTTP): {result['http']['our_background']}")
    for key in ("http", "socket"):
        if key in result:
            print(
                f"{key}: our acks slower than 2x bare Bolt's p99, and how many of them "
                f"began <= 0.5 s after an arXiv request: {result[key]['slow']}"
            )
    print(f"goals (median <= {GOAL_MEDIAN}x, p99 <= {GOAL_P99}x): {'met' if ok else 'NOT met'}")
    print(f"wrote {path}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
