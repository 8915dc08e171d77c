"""Load: 200 `/propose` from 50 users over 10 s through the real Slack HTTP
app while arXiv takes 2 s a request, then probe pairs on an idle bot.

Goals: every acknowledgment under 3 s (Slack's deadline); every command
answered and every paper's card delivered; arXiv asked no more times than
there are distinct papers, never two requests starting within 3 s of each
other (arXiv's rule, start to start); and per card, from the acknowledgment of
the command that proposed the paper to its card in the channel:

* within arXiv's answer time + 0.1 s when the command found nothing in flight
  and the last request started 3 s or more before ("idle"; a request is in
  flight from the client's start of it, as its own log records, which is a
  millisecond or so before the fake sees it arrive);
* within 3 s + arXiv's answer time otherwise ("in flight": a request was being
  answered when the command came; "gate closed": none was, but the last one
  started under 3 s before, so the rule forbids starting another yet).

The baseline is arXiv's answer time measured in this run: for each card, how
long the fake arXiv took over the request that answered its paper (arrival to
answer sent). Each card's wait is printed as a ratio of its goal (≤ 1 meets it).

The app runs in its own process (`_serve_ours` below, built as `readgroup serve
slack --http` builds it: `build_bot` with the production ArxivClient and its
3 s spacing) against a
loopback fake Slack Web API and a fake arXiv (synthetic: any id exists) that
holds every answer 2 s. Requests are signed as Slack signs them and sent on a
fixed schedule (one every 50 ms), without waiting for earlier answers. Every
time is time.monotonic() (one clock for the whole machine): commands as sent
and acknowledged here, cards as the fake Slack received them, requests as the
fake arXiv received and answered them, and the client's own start times, which
the app writes out when it is stopped. After the load, `--probes` pairs: once
arXiv is quiet, a proposal of a new paper, and a second 1 s later (the issue's
"one proposal on an idle bot, a second 1 s later").

    .venv/bin/python bench/load_bench.py [--commands 200] [--users 50]
        [--papers 40] [--seconds 10] [--arxiv-delay 2] [--probes 3]
        [--deliver-timeout 180]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import percentile, table, write_result
from bench.slack_ack import SECRET, _signed
from tests.fakes.arxiv_server import LOOPBACK_JITTER, FakeArxiv
from tests.fakes.slack_api import Call

ACK_GOAL_S = 3.0
ARXIV_GAP_GOAL_S = 3.0
#: A card with nothing in flight: arXiv's answer time plus this.
IDLE_SLACK_S = 0.1
ENV_DUMP = "READGROUP_BENCH_ARXIV_LOG"


# ------------------------------------------------------------------ our app
async def _serve_ours(api: str, arxiv: str, db: str) -> None:
    """Our Slack app in this process, as ``readgroup serve slack --http``
    builds it, plus one thing the real process does not do: on SIGTERM it
    leaves the arXiv client's own record of when each request started (its
    gate's times, free of loopback jitter) at $READGROUP_BENCH_ARXIV_LOG."""
    from pydantic import SecretStr

    from adapters.slack.app import build_slack_app
    from adapters.slack.client import make_web_client
    from adapters.slack.serve import GIL_SWITCH_SECONDS, settle_heap, start_http
    from bot.app import build_bot
    from bot.infra.settings import Settings

    settings = Settings(
        DATABASE_URL=db,
        ARXIV_API_URL=arxiv,
        SLACK_API_URL=api,
        _env_file=None,  # type: ignore[call-arg]
    ).model_copy(update={"slack_bot_token": SecretStr("xoxb-bench")})
    sys.setswitchinterval(GIL_SWITCH_SECONDS)  # as serve_slack sets it
    bot = build_bot(settings)
    adapter = build_slack_app(bot, make_web_client(settings), signing_secret=SECRET)
    bot.start()  # the arXiv retry loop, as in production
    settle_heap()  # as serve_slack does before serving
    _runner, port = await start_http(adapter, host="127.0.0.1", port=0)
    dump = os.environ.get(ENV_DUMP)
    if dump:

        def leave_log() -> None:
            log = [[t, ids] for t, ids in bot.arxiv.request_log]
            Path(dump).write_text(json.dumps(log))
            os._exit(0)

        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, leave_log)
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


@dataclass
class Sent:
    """One command as the benchmark sent it (times on time.monotonic())."""

    index: int
    paper: str
    sent_at: float = math.nan
    acked_at: float = math.nan

    @property
    def ack_s(self) -> float:
        return self.acked_at - self.sent_at


def _paper_ids(n: int, month: str = "2409") -> list[str]:
    """Distinct, well-formed new-style ids that no fixture uses."""
    return [f"{month}.{10000 + i:05d}" for i in range(n)]


async def _post(
    http: aiohttp.ClientSession, port: int, hook_base: str, sent: Sent, user: int
) -> None:
    body = urlencode(
        {
            "team_id": "T111",
            "channel_id": "C111",
            "user_id": f"U{user:03d}",
            "user_name": f"user{user}",
            "command": "/propose",
            "text": f"https://arxiv.org/abs/{sent.paper} for the load test",
            "response_url": f"{hook_base}cmd{sent.index}",
            "trigger_id": f"{sent.index}.1.x",
        }
    )
    sent.sent_at = time.monotonic()
    async with http.post(
        f"http://127.0.0.1:{port}/slack/events", data=body, headers=_signed(body)
    ) as resp:
        await resp.read()
        if resp.status != 200:
            raise RuntimeError(f"command {sent.index}: HTTP {resp.status}")
    sent.acked_at = time.monotonic()


async def _send_all(
    http: aiohttp.ClientSession,
    port: int,
    hook_base: str,
    commands: int,
    users: int,
    papers: list[str],
    seconds: float,
) -> list[Sent]:
    """Fire the commands on a fixed schedule, not waiting for earlier answers."""
    sent = [Sent(i, papers[i % len(papers)]) for i in range(commands)]

    async def one(s: Sent, at: float) -> None:
        await asyncio.sleep(max(0.0, at - time.monotonic()))
        await _post(http, port, hook_base, s, s.index % users)

    t0 = time.monotonic() + 0.2
    step = seconds / commands
    await asyncio.gather(*(one(s, t0 + s.index * step) for s in sent))
    return sent


def _card_paper(call: Call, papers: list[str]) -> str | None:
    """The arXiv id on a posted paper card (a message with an upvote button)."""
    text = json.dumps(call.blocks)
    if '"upvote' not in text:
        return None
    return next((p for p in papers if p in text), None)


def _cards_at(calls: list[Call], papers: list[str]) -> dict[str, float]:
    """When each paper's card was first posted (the fake Slack's clock)."""
    at: dict[str, float] = {}
    for c in calls:
        if c.method == "chat.postMessage" and (p := _card_paper(c, papers)) and p not in at:
            at[p] = c.at
    return at


def _in_flight(
    answered: list[tuple[float, float]], client_log: list[tuple[float, list[str]]] | None
) -> list[tuple[float, float]]:
    """Each request's span: from its start (the client's own record, which is
    before the fake sees it; else the fake's arrival) to the answer sent."""
    spans = sorted(answered)
    starts = sorted(t for t, _ in client_log or [])
    if len(starts) != len(spans):
        return spans
    return [(min(s, a), e) for s, (a, e) in zip(starts, spans, strict=True)]


def _state_at(t: float, answered: list[tuple[float, float]], interval: float) -> str:
    """What the arXiv client faced when a command was sent (``answered``:
    each request's span, see :func:`_in_flight`): a request in flight; none,
    but the last started under `interval` ago (the rule forbids starting
    yet); or idle (nothing in flight, interval past)."""
    if any(a <= t < e for a, e in answered):
        return "in flight"
    before = [a for a, _ in answered if a <= t]
    if before and t < max(before) + interval:
        return "gate closed"
    return "idle"


async def _wait_quiet(arxiv: FakeArxiv, interval: float) -> None:
    """Until nothing is in flight and the last answer came over `interval` ago:
    idle under either rule (the interval counted from the last start or, as the
    old gate did, from the last end)."""
    while True:
        answered, asked = arxiv.answered, arxiv.requests
        if len(answered) == len(asked):
            last = max((e for _, e in answered), default=-math.inf)
            if time.monotonic() >= last + interval + 0.2:
                return
        await asyncio.sleep(0.05)


async def _bench(
    commands: int,
    users: int,
    n_papers: int,
    seconds: float,
    delay: float,
    within: float,
    probes: int,
    interval: float,
) -> dict[str, Any]:
    from tests.fakes.slack_api import FakeSlack

    papers = _paper_ids(n_papers)
    probe_papers = _paper_ids(2 * probes, "2410")
    fake_slack = await FakeSlack().start()
    hook = fake_slack.response_url("")
    with FakeArxiv(synthetic=True) as arxiv, tempfile.TemporaryDirectory() as tmp:
        arxiv.delay(delay)
        db = f"sqlite:///{tmp}/load.db"
        dump = Path(tmp) / "arxiv_log.json"
        proc, port = await asyncio.to_thread(
            _spawn, fake_slack.url, arxiv.url, db, env={ENV_DUMP: str(dump)}
        )
        try:
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
                started = time.monotonic()
                sent = await _send_all(http, port, hook, commands, users, papers, seconds)
                sent_in = time.monotonic() - started

                deadline = time.monotonic() + within
                while time.monotonic() < deadline:
                    if len(_cards_at(fake_slack.calls, papers)) == n_papers:
                        break
                    await asyncio.sleep(0.05)
                all_cards_in = time.monotonic() - started
                # Probes: a proposal on an idle client, then a second one 1 s
                # later (while the first's request is in flight), in pairs.
                probe_sent: list[Sent] = []
                for k in range(probes):
                    await _wait_quiet(arxiv, interval)
                    pair = [Sent(commands + 2 * k + j, probe_papers[2 * k + j]) for j in range(2)]
                    await _post(http, port, hook, pair[0], 900)
                    await asyncio.sleep(max(0.0, pair[0].sent_at + 1.0 - time.monotonic()))
                    await _post(http, port, hook, pair[1], 901)
                    probe_sent += pair
                    limit = time.monotonic() + within
                    while time.monotonic() < limit:
                        if len(_cards_at(fake_slack.calls, [s.paper for s in pair])) == 2:
                            break
                        await asyncio.sleep(0.05)
                await asyncio.sleep(1.0)  # let any stray private replies land
        finally:
            proc.terminate()
            proc.wait(10)
        requests = arxiv.requests
        answered = arxiv.answered
        client_log: list[tuple[float, list[str]]] | None = (
            [(t, ids) for t, ids in json.loads(dump.read_text())] if dump.exists() else None
        )
    calls = fake_slack.calls
    await fake_slack.stop()

    load_cards = _cards_at(calls, papers)
    card_posts = sum(1 for c in calls if c.method == "chat.postMessage" and _card_paper(c, papers))
    answered_cmds = {c.path.rsplit("/", 1)[1] for c in calls if c.method == "response_url"}
    load_answered = {a for a in answered_cmds if int(a.removeprefix("cmd")) < commands}
    probe_cards = _cards_at(calls, probe_papers)

    # The baseline: how long the fake arXiv took to answer, in this run.
    answer_times = sorted(e - a for a, e in answered)
    ends = dict(answered)  # arrival -> answer sent; the fake records the same arrival
    by_id: dict[str, tuple[float, float]] = {}  # paper -> (arrival, answer sent)
    for rec in sorted(requests, key=lambda r: r.time):
        if rec.time in ends:
            for i in rec.id_list:
                by_id[i.split("v")[0]] = (rec.time, ends[rec.time])  # the last one answered it
    started: dict[str, float] = {}  # paper -> the client's start of its last request
    for t, ids in client_log or []:
        for i in ids:
            started[i.split("v")[0]] = t
    cards: list[dict[str, Any]] = []
    firsts: dict[str, Sent] = {}
    for s in [*sent, *probe_sent]:
        firsts.setdefault(s.paper, s)
    all_cards = {**load_cards, **probe_cards}
    spans = _in_flight(answered, client_log)
    for paper, s in firsts.items():
        state = _state_at(s.sent_at, spans, interval)
        arrival, end = by_id.get(paper, (math.nan, math.nan))
        answer = end - arrival if paper in by_id else delay
        goal = answer + IDLE_SLACK_S if state == "idle" else interval + answer
        posted = all_cards.get(paper)
        wait = posted - s.acked_at if posted is not None else math.inf
        cards.append(
            {
                "paper": paper,
                "phase": "probe" if paper in probe_papers else "load",
                "state": state,
                "wait_s": round(wait, 3),
                "goal_s": round(goal, 3),
                "ratio": round(wait / goal, 3),
                # Where the wait went, from the ack: the client's start of the
                # request, its arrival at the fake, the answer, the card.
                "started_s": round(started[paper] - s.acked_at, 3) if paper in started else None,
                "arrived_s": round(arrival - s.acked_at, 3),
                "answered_s": round(end - s.acked_at, 3),
            }
        )

    def gaps(times: list[float]) -> list[float]:
        return [b - a for a, b in itertools.pairwise(sorted(times))]

    arrival_gaps = gaps([r.time for r in requests])
    start_gaps = gaps([t for t, _ in client_log]) if client_log is not None else []
    ids_asked = {i.split("v")[0] for r in requests for i in r.id_list}
    acks = [s.ack_s for s in sent]
    return {
        "commands": commands,
        "users": users,
        "distinct_papers": n_papers,
        "sent_over_s": round(sent_in, 2),
        "arxiv_delay_s": delay,
        "arxiv_interval_s": interval,
        "ack": {
            "max_ms": round(max(acks) * 1000, 1),
            "p99_ms": round(percentile(acks, 99) * 1000, 1),
            "median_ms": round(percentile(acks, 50) * 1000, 1),
            "over_3s": sum(1 for a in acks if a >= ACK_GOAL_S),
        },
        "cards_delivered": len(load_cards),
        "card_posts": card_posts,
        "all_cards_after_s": round(all_cards_in, 1),
        "private_replies_to_commands": len(load_answered),
        # A new paper's answer is its public card; a duplicate's is private.
        "commands_answered": len(load_answered) + card_posts,
        "arxiv_requests": len([r for r in requests if set(r.id_list) & set(papers)]),
        "arxiv_requests_all": len(requests),
        "arxiv_ids_asked": len(ids_asked & set(papers)),
        "arxiv_answer_s": {
            "median": round(statistics.median(answer_times), 3) if answer_times else None,
            "max": round(max(answer_times), 3) if answer_times else None,
            "n": len(answer_times),
        },
        "arxiv_min_start_gap_s": round(min(start_gaps), 3) if start_gaps else None,
        "arxiv_min_arrival_gap_s": round(min(arrival_gaps), 3) if arrival_gaps else None,
        "arxiv_start_gaps_s": [round(g, 3) for g in start_gaps],
        "probes": probes,
        "cards": cards,
    }


def _summary(cards: list[dict[str, Any]]) -> dict[str, Any]:
    waits = [c["wait_s"] for c in cards]
    return {
        "n": len(cards),
        "median_s": round(statistics.median(waits), 2) if waits else None,
        "max_s": round(max(waits), 2) if waits else None,
        "max_ratio": round(max(c["ratio"] for c in cards), 3) if cards else None,
        "within_goal": sum(1 for c in cards if c["ratio"] <= 1.0),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=200)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--papers", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--arxiv-delay", type=float, default=2.0)
    parser.add_argument("--probes", type=int, default=3)
    parser.add_argument("--deliver-timeout", type=float, default=180.0)
    parser.add_argument("--serve", nargs=3, help=argparse.SUPPRESS)  # api arxiv db
    args = parser.parse_args()
    if args.serve:
        asyncio.run(_serve_ours(*args.serve))
        return 0
    r = asyncio.run(
        _bench(
            args.commands,
            args.users,
            args.papers,
            args.seconds,
            args.arxiv_delay,
            args.deliver_timeout,
            args.probes,
            ARXIV_GAP_GOAL_S,  # the production client's spacing (build_bot's default)
        )
    )
    ack = r["ack"]
    cards: list[dict[str, Any]] = r["cards"]
    idle = [c for c in cards if c["state"] == "idle"]
    busy = [c for c in cards if c["state"] != "idle"]
    r["card_wait"] = {
        "all": _summary(cards),
        "load": _summary([c for c in cards if c["phase"] == "load"]),
        "probe": _summary([c for c in cards if c["phase"] == "probe"]),
        "idle": _summary(idle),
        "in_flight": _summary([c for c in cards if c["state"] == "in flight"]),
        "gate_closed": _summary([c for c in cards if c["state"] == "gate closed"]),
    }
    start_gap, arrival_gap = r["arxiv_min_start_gap_s"], r["arxiv_min_arrival_gap_s"]
    answer = r["arxiv_answer_s"]

    def card_row(name: str, group: list[dict[str, Any]], goal: str) -> list[object]:
        g = _summary(group)
        if not group:
            return [name, "none in this run", goal, "not measured"]
        return [
            name,
            f"{g['n']} cards: median {g['median_s']} s, max {g['max_s']} s "
            f"(max {g['max_ratio']}x its goal; {g['within_goal']} of {g['n']} within)",
            goal,
            g["within_goal"] == g["n"],
        ]

    checks: list[list[object]] = [
        ["ack max", f"{ack['max_ms']} ms", "< 3000 ms", ack["max_ms"] < ACK_GOAL_S * 1000],
        ["ack p99", f"{ack['p99_ms']} ms", "< 3000 ms", ack["p99_ms"] < ACK_GOAL_S * 1000],
        [
            "cards delivered",
            f"{r['cards_delivered']} of {r['distinct_papers']} ({r['card_posts']} posts)",
            "all, once each",
            r["cards_delivered"] == r["distinct_papers"] == r["card_posts"],
        ],
        [
            "commands answered",
            f"{min(r['commands_answered'], r['commands'])} of {r['commands']}"
            + (
                f" ({r['commands_answered'] - r['commands']} proposer(s) also told privately "
                "that arXiv was slow, then got the card)"
                if r["commands_answered"] > r["commands"]
                else ""
            ),
            "all (card or private answer)",
            r["commands_answered"] >= r["commands"],
        ],
        [
            "arXiv requests (load)",
            r["arxiv_requests"],
            f"<= {r['distinct_papers']}",
            r["arxiv_requests"] <= r["distinct_papers"],
        ],
        card_row("card wait, idle", idle, f"<= answer + {IDLE_SLACK_S} s"),
        card_row("card wait, otherwise", busy, f"<= {ARXIV_GAP_GOAL_S:g} s + answer"),
        [
            "arXiv start-to-start (client)",
            "not recorded" if start_gap is None else f"min {start_gap} s",
            f">= {ARXIV_GAP_GOAL_S:g} s",
            start_gap is None or start_gap >= ARXIV_GAP_GOAL_S,
        ],
        [
            "arXiv arrivals (fake)",
            "one request" if arrival_gap is None else f"min gap {arrival_gap} s",
            f">= {ARXIV_GAP_GOAL_S - LOOPBACK_JITTER:g} s (3 s less loopback jitter)",
            arrival_gap is None or arrival_gap >= ARXIV_GAP_GOAL_S - LOOPBACK_JITTER,
        ],
    ]
    print(
        f"{r['commands']} /propose from {r['users']} users over {r['sent_over_s']} s, "
        f"{r['distinct_papers']} papers, arXiv {r['arxiv_delay_s']} s a request; "
        f"all cards in after {r['all_cards_after_s']} s; "
        f"{r['private_replies_to_commands']} private replies; then {r['probes']} probe pairs"
    )
    print(
        f"baseline: arXiv's answer time at the fake in this run, median {answer['median']} s, "
        f"max {answer['max']} s over {answer['n']} requests; "
        f"{r['arxiv_requests_all']} requests, starts {r['arxiv_start_gaps_s']} s apart"
    )
    for name, key in (("load", "load"), ("probes", "probe"), ("all", "all")):
        g = r["card_wait"][key]
        print(f"card wait ({name}): {g['n']} cards, median {g['median_s']} s, max {g['max_s']} s")
    print(
        table(
            [
                [*c[:3], c[3] if isinstance(c[3], str) else ("met" if c[3] else "NOT met")]
                for c in checks
            ],
            ["check", "measured", "goal", ""],
        )
    )
    ok = all(c[3] is True for c in checks if not isinstance(c[3], str))
    r["goals_met"] = ok
    path = write_result("load", r)
    print(f"wrote {path}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
