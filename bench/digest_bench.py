"""Digest wall time against a fake LLM that takes 1 s a call.

For 1, 4, 8 and 16 papers: the time of one `/digest` (LLM calls run four at a
time), the time of a second `/digest` with nothing changed (cached: no call),
and, for 8 papers, the time with the LLM down (offline summaries). Compared with
the time of one LLM call. Writes bench/results/digest.json.

Run: .venv/bin/python bench/digest_bench.py
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import write_result  # noqa: E402
from bot.app import build_bot  # noqa: E402
from bot.chat.events import Command  # noqa: E402
from bot.chat.replies import Reply, to_plain  # noqa: E402
from bot.digest import summaries  # noqa: E402
from bot.infra.clock import ManualClock  # noqa: E402
from bot.infra.llm import LlmClient  # noqa: E402
from bot.infra.settings import Settings  # noqa: E402
from bot.schedule import week_sessions  # noqa: E402
from tests.digest.conftest import ORGANIZER, PLACE, WEEK, at, seed  # noqa: E402
from tests.fakes.openai_fake import OpenAIFake  # noqa: E402

LATENCY = 1.0
SIZES = (1, 4, 8, 16)


async def _noop(reply: Reply) -> None:
    return None


async def one_run(
    fake: OpenAIFake, papers: int, *, down: bool = False, concurrency: int = 4
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(DATABASE_URL=f"sqlite:///{tmp}/bench.db", _env_file=None)  # type: ignore[call-arg]
        bot = build_bot(settings)
        bot.clock = ManualClock(at(WEEK))
        client = LlmClient(
            base_url=fake.url,
            api_key="sk-bench",
            model="bench-model",
            timeout=10,
            concurrency=concurrency,
        )
        summaries.set_llm(bot, client)
        s = seed(bot, sessions=papers)
        original = week_sessions.sessions_between
        week_sessions.sessions_between = lambda **kw: list(s.sessions)  # type: ignore[assignment]
        fake.requests.clear()
        fake.max_in_flight = 0
        if down:
            fake.down()
        try:
            started = time.monotonic()
            [reply] = await bot.handle(Command("digest", "", ORGANIZER, PLACE), _noop)
            first = time.monotonic() - started
            calls_first = len(fake.requests)
            started = time.monotonic()
            await bot.handle(Command("digest", "", ORGANIZER, PLACE), _noop)
            second = time.monotonic() - started
            calls_second = len(fake.requests) - calls_first
        finally:
            fake.up()
            week_sessions.sessions_between = original  # type: ignore[assignment]
            await client.aclose()
            await bot.aclose()
            bot.engine.dispose()
        text = to_plain(reply)
        return {
            "papers": papers,
            "concurrency": concurrency,
            "llm_down": down,
            "first_digest_s": round(first, 3),
            "llm_requests_first": calls_first,
            "max_concurrent_requests": fake.max_in_flight,
            "second_digest_s": round(second, 3),
            "llm_requests_second": calls_second,
            "offline_summaries": text.count("extractive summary (offline)"),
        }


async def main() -> int:
    async with OpenAIFake() as fake:
        fake.latency = LATENCY
        # One call with a fresh client, as each digest run below makes one; the
        # process's first call (lazy imports, first connection) is not timed.
        timed = []
        for _ in range(2):
            client = LlmClient(base_url=fake.url, api_key="sk-bench", model="bench-model")
            started = time.monotonic()
            await client.complete([{"role": "user", "content": "Paper: X"}], records=[])
            timed.append(time.monotonic() - started)
            await client.aclose()
        one_call = timed[-1]
        fake.requests.clear()
        runs = [await one_run(fake, n) for n in SIZES]
        # READGROUP_LLM_CONCURRENCY=8: 16 papers in two rounds
        wide = await one_run(fake, 16, concurrency=8)
        down = await one_run(fake, 8, down=True)
    result = {
        "llm_latency_s": LATENCY,
        "one_llm_call_s": round(one_call, 3),
        "concurrency": 4,
        "runs": runs,
        "sixteen_at_8": wide,
        "llm_down_8_papers": down,
    }
    write_result("digest", result)
    print(json.dumps(result, indent=2))
    eight = next(r for r in runs if r["papers"] == 8)
    ok = (
        eight["first_digest_s"] < 3.0
        and all(r["llm_requests_second"] == 0 for r in runs)
        and down["first_digest_s"] < 2.0
        and down["offline_summaries"] == 8
    )
    print("OK" if ok else "FAILED: 8 papers must draft in < 3 s, offline in < 2 s, re-run cached")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
