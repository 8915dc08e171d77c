"""Digest wall time against a fake LLM that takes 1 s a call.

For 1, 4, 8 and 16 papers: the time of one `/digest` (LLM calls run four at a
time), the time of a second `/digest` with nothing changed (cached: no call),
and, for 8 papers, the time with the LLM down (offline summaries). Compared with
the time of one LLM call. Writes bench/results/digest.json.

The week's sessions are real rows in the benchmark's database (held sessions
with their presenter, the presented proposal, and thread messages, takeaways
among them), so the digest runs the schedule area's own query
(`week_sessions.sessions_between`) as it does in production; nothing is patched.

Run: .venv/bin/python bench/digest_bench.py
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import write_result  # noqa: E402
from bot.app import Bot, build_bot  # noqa: E402
from bot.chat.events import Command  # noqa: E402
from bot.chat.replies import Reply, to_plain  # noqa: E402
from bot.digest import summaries  # noqa: E402
from bot.digest.paper_entry import ALL_FROM_ABSTRACTS  # noqa: E402
from bot.infra.clock import ManualClock  # noqa: E402
from bot.infra.llm import LlmClient  # noqa: E402
from bot.infra.settings import Settings  # noqa: E402
from bot.schedule import week_sessions  # noqa: E402
from storage.groups.tables import Member  # noqa: E402
from storage.papers.tables import Proposal  # noqa: E402
from storage.schedule.tables import DiscussionMessage, MeetingSession, SessionStatus  # noqa: E402
from tests.digest.conftest import MEMBER, ORGANIZER, PLACE, WEEK, Seeded, at, seed  # noqa: E402
from tests.fakes.openai_fake import OpenAIFake  # noqa: E402

LATENCY = 1.0
SIZES = (1, 4, 8, 16)


async def _noop(reply: Reply) -> None:
    return None


def seed_sessions(bot: Bot, s: Seeded) -> None:
    """The seeded week's sessions as rows: one held session per presented paper,
    presented by Alice or Bob, with the thread `seed` describes."""

    def work(*, session):  # type: ignore[no-untyped-def]
        from sqlmodel import select

        people = {
            m.user_id: m
            for m in session.exec(
                select(Member).where(Member.user_id.in_([ORGANIZER.user_id, MEMBER.user_id]))  # type: ignore[attr-defined]
            )
        }
        for i, info in enumerate(s.sessions):
            proposal = session.exec(
                select(Proposal).where(
                    Proposal.group_id == s.group_id, Proposal.paper_id == info.paper_id
                )
            ).one()
            presenter = people[(MEMBER if i % 2 else ORGANIZER).user_id]
            row = MeetingSession(
                group_id=s.group_id,
                starts_at=info.starts_at,
                ends_at=info.starts_at + timedelta(hours=1),
                status=SessionStatus.DONE,
                presenter_member_id=presenter.id,
                pinned=True,
                proposal_id=proposal.id,
                paper_chosen_by="presenter",
                thread_id=f"thread-{i}",
                created_at=info.starts_at - timedelta(days=7),
            )
            session.add(row)
            session.flush()
            texts = [(t, True) for t in info.takeaways] + [(t, False) for t in info.discussion]
            for j, (text, takeaway) in enumerate(texts):
                session.add(
                    DiscussionMessage(
                        session_id=row.id,
                        message_id=f"m-{i}-{j}",
                        author_user_id=presenter.user_id,
                        author_name=presenter.name,
                        text=text,
                        sent_at=info.starts_at + timedelta(minutes=30 + j),
                        takeaway=takeaway,
                        takeaway_by=ORGANIZER.user_id if takeaway else "",
                    )
                )

    bot.db_sync(work)


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
        seed_sessions(bot, s)
        found = bot.db_sync(
            week_sessions.sessions_between,
            group_id=s.group_id,
            start=WEEK.start,
            end=WEEK.start + timedelta(days=7),
        )
        assert [i.paper_id for i in found] == [i.paper_id for i in s.sessions], found
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
            # The post's one note on summaries taken from the abstracts (no LLM);
            # it replaced a label after each offline summary, which this counted.
            "all_from_abstracts": ALL_FROM_ABSTRACTS in text,
        }


_WRITE_UP = [
    "The paper states a problem and the idea the authors propose for it.",
    "The group discussed where the idea applies and how far the results carry.",
]


def _answers(system: str, user: str) -> dict[str, Any] | None:
    """What a model that follows the prompts answers: the tl;dr prompt with
    the write-up in the same answer (the sessions have threads) and the
    week's intro when the call asks for it, the write-up
    prompt (asked only when that is missing) with a write-up; else the fake's
    default. Without this the fake's tl;dr-shaped answer to every prompt would
    fail the write-up check, and every run would ask again."""
    if '"paragraphs": [string' in system:  # the tl;dr prompt
        asked_intro = 'opening paragraph as "intro"' in user
        return {
            "tldr": "The authors propose a method and show that it works.",
            "key_insights": ["It introduces a simple idea.", "Experiments support the claims."],
            "why_it_matters": None,
            "paragraphs": _WRITE_UP,
            "intro": "The papers of this week each propose a method." if asked_intro else None,
        }
    if '{"paragraphs"' in system:  # the write-up prompt
        return {"paragraphs": _WRITE_UP}
    return None


async def main() -> int:
    async with OpenAIFake() as fake:
        fake.latency = LATENCY
        fake.script = _answers
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
    one = next(r for r in runs if r["papers"] == 1)
    checks = {
        "1 paper <= 1.5x one call": one["first_digest_s"] <= 1.5 * one_call,
        "16 papers at concurrency 8 <= 2.2x one call": wide["first_digest_s"] <= 2.2 * one_call,
        "a second /digest makes no call": all(r["llm_requests_second"] == 0 for r in runs),
        "LLM down: 8 papers draft in < 2 s, noted as from the abstracts": (
            down["first_digest_s"] < 2.0 and down["all_from_abstracts"]
        ),
    }
    for name, met in checks.items():
        print(f"{'met' if met else 'NOT met'}: {name} (one call: {one_call:.2f} s, this run)")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
