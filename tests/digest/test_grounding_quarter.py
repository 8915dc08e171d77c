"""The write-up, the period intro and the monthly "Why →" end to end against
the fake endpoint replaying tests/fixtures/quarter/llm_answers.yaml: its good
answers come through, its 3 bad ones are dropped and counted, write-ups are
cached like the tl;dr, and offline (or with the LLM down) nothing is made up."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, select

from bot.app import Bot
from bot.digest import period_prose
from bot.digest.summaries import WRITE_UP_SOURCE, RunStats, summarize_papers
from bot.digest.summary_types import PaperInput
from storage.digest.tables import LlmCall, PaperSummary
from storage.papers.tables import Paper, PaperStatus
from tests.digest.conftest import make_client
from tests.digest.test_grounding import answers, bad, paper_input, quarter
from tests.fakes.openai_fake import OpenAIFake

NOW = datetime(2026, 10, 1, 9, tzinfo=UTC)
_ARXIV = re.compile(r"^arXiv: (\S+)$", re.M)
BAD_IDS = {b["arxiv_id"] for b in answers()["bad"]}


async def _seed(bot: Bot) -> list[PaperInput]:
    read = [s["arxiv_id"] for s in quarter()["sessions"] if s["status"] == "done"]
    meta = {p["arxiv_id"]: p for p in quarter()["papers"]}

    def work(*, session: Session) -> dict[str, int]:
        ids = {}
        for arxiv_id in read:
            p = meta[arxiv_id]
            row = Paper(
                arxiv_id=arxiv_id,
                version=p.get("version"),
                status=PaperStatus.READY,
                title=p["title"],
                authors=list(p["authors"]),
                abstract=p["abstract"],
                comment=p.get("comment") or "",
                links=list(p.get("links") or ()),
                created_at=NOW,
            )
            session.add(row)
            session.flush()
            assert row.id is not None
            ids[arxiv_id] = row.id
        return ids

    ids = await bot.db(work)
    return [paper_input(a, ids[a]) for a in read]


def script(*, with_bad: bool = True, intro: str | None = None, why: str | None = None) -> Any:
    """Replays the hand-written answers; the 3 bad ones are added to their
    paper's write-up."""
    papers = answers()["papers"]

    def answer(system: str, user: str) -> dict[str, Any] | None:
        if '{"intro": string}' in system:
            return {"intro": intro or ""}
        if '{"why": string}' in system:
            return {"why": why or ""}
        m = _ARXIV.search(user)
        if m is None:
            return None
        a = papers[m.group(1)]
        if '{"paragraphs"' in system:
            paras = list(a["write_up"]["paragraphs"])
            for b in answers()["bad"]:
                if with_bad and b["arxiv_id"] == m.group(1):
                    paras.append(b.get("paragraph") or b["sentence"])
            return {"paragraphs": paras}
        return {**a["tldr"], "why_it_matters": a["why_it_matters"]}

    return answer


async def test_write_ups_come_through_and_the_three_bad_answers_are_dropped_and_counted(
    bot: Bot, fake_llm: OpenAIFake
) -> None:
    inputs = await _seed(bot)
    fake_llm.script = script()
    client = make_client(fake_llm.url)
    got, stats = await summarize_papers(inputs, db=bot.db, llm=client, now=NOW)
    for p in inputs:
        s = got[p.paper_id]
        a = answers()["papers"][p.arxiv_id]
        assert s.source == "llm"
        assert s.write_up == tuple(
            x.replace(f'"{q["text"]}"', f"“{q['text']}”") if (q := a["write_up"]["quote"]) else x
            for x in a["write_up"]["paragraphs"]
        ), p.arxiv_id
        if a["why_it_matters"]:
            assert s.why_it_matters == a["why_it_matters"]["text"]
            assert s.why_it_matters_cites == tuple(a["why_it_matters"]["cites"])
        else:
            assert s.why_it_matters is None and s.why_it_matters_cites == ()
    text = " ".join(x for s in got.values() for x in s.write_up)
    assert "cherry-picked to make their point" not in text
    assert "87%" not in text and "Jonas" not in text and "Waymo" not in text
    assert (stats.drops.quotes_dropped, stats.drops.sentences_dropped) == (1, 2)
    assert stats.drops.note() == "1 quote and 2 sentences dropped by the grounding check"
    assert stats.calls == 2 * len(inputs) and stats.write_ups == len(inputs)

    def purposes(*, session: Session) -> list[str]:
        return [c.purpose for c in session.exec(select(LlmCall)).all()]

    assert sorted(set(await bot.db(purposes))) == ["tldr", "write_up"]

    # Nothing changed: no call, the same write-ups from the cache, no drops.
    before = len(fake_llm.requests)
    again, stats2 = await summarize_papers(inputs, db=bot.db, llm=client, now=NOW)
    assert len(fake_llm.requests) == before and stats2.calls == 0 and not stats2.drops
    assert all(again[p.paper_id] == got[p.paper_id] for p in inputs)

    # A new message in one thread misses only that write-up's cache.
    changed = [
        PaperInput(**{**p.__dict__, "thread": (*p.thread, ("Lena", "One more thought."))})
        if i == 0
        else p
        for i, p in enumerate(inputs)
    ]
    _, stats3 = await summarize_papers(changed, db=bot.db, llm=client, now=NOW)
    assert stats3.calls == 1 and stats3.write_ups == 1

    def rows(*, session: Session) -> int:
        q = select(PaperSummary).where(PaperSummary.source == WRITE_UP_SOURCE)
        return len(session.exec(q).all())

    assert await bot.db(rows) == len(inputs) + 1
    await client.aclose()


async def test_offline_or_with_the_llm_down_there_is_no_write_up(
    bot: Bot, fake_llm: OpenAIFake
) -> None:
    inputs = await _seed(bot)
    got, _ = await summarize_papers(inputs, db=bot.db, llm=None, now=NOW)
    assert all(s.offline and s.write_up == () for s in got.values())
    fake_llm.script = script()
    fake_llm.down()
    client = make_client(fake_llm.url, max_attempts=1)
    got, _ = await summarize_papers(inputs[:2], db=bot.db, llm=client, now=NOW)
    assert all(s.offline and s.write_up == () for s in got.values())
    await client.aclose()


async def test_a_write_up_call_that_fails_leaves_it_empty_and_caches_nothing(
    bot: Bot, fake_llm: OpenAIFake
) -> None:
    inputs = (await _seed(bot))[:1]
    answer = script()

    def tldr_only(system: str, user: str) -> Any:
        return "no JSON here" if '{"paragraphs"' in system else answer(system, user)

    fake_llm.script = tldr_only
    client = make_client(fake_llm.url)
    got, stats = await summarize_papers(inputs, db=bot.db, llm=client, now=NOW)
    s = got[inputs[0].paper_id]
    assert s.source == "llm" and s.write_up == () and stats.write_ups == 0
    fake_llm.script = answer
    got, _ = await summarize_papers(inputs, db=bot.db, llm=client, now=NOW)
    assert got[inputs[0].paper_id].write_up  # asked again, not cached empty
    await client.aclose()


async def test_write_up_calls_respect_the_concurrency_bound(fake_llm: OpenAIFake, bot: Bot) -> None:
    inputs = await _seed(bot)
    fake_llm.script = script(with_bad=False)
    fake_llm.latency = 0.02
    client = make_client(fake_llm.url, concurrency=2)
    _, stats = await summarize_papers(inputs, db=bot.db, llm=client, now=NOW)
    assert stats.write_ups == len(inputs)
    assert fake_llm.max_in_flight <= 2
    await client.aclose()


async def test_the_period_intro_is_checked_and_none_offline(bot: Bot, fake_llm: OpenAIFake) -> None:
    weeks = answers()["periods"]["weeks"]
    p = paper_input("2407.18756")
    good = weeks["2026-W33"]
    client = make_client(fake_llm.url)
    bot.llm = client
    runtime = bot
    # force: each answer below is asked anew (the same inputs are cached otherwise)
    kw: dict[str, Any] = {"kind": "weekly", "label": "2026-W33", "papers": [p], "force": True}

    fake_llm.script = script(intro=good)
    got = await period_prose.period_intro(runtime, takeaways=list(p.takeaways), **kw)
    assert got == good
    # asked again without force: the cached answer, no request
    asked = len(fake_llm.requests)
    cached = {**kw, "force": False}
    assert await period_prose.period_intro(runtime, takeaways=list(p.takeaways), **cached) == good
    assert len(fake_llm.requests) == asked

    extras = period_prose.Extras()
    fake_llm.script = script(intro=good + " " + bad("name_not_in_inputs")["sentence"])
    got = await period_prose.period_intro(runtime, takeaways=list(p.takeaways), extras=extras, **kw)
    assert got == good and extras.drops.sentences_dropped == 1 and len(extras.records) == 1
    stats = RunStats()
    stats.absorb(extras)
    assert stats.calls == 1 and stats.prompt_tokens > 0
    assert stats.drops.note() == "1 sentence dropped by the grounding check"

    fake_llm.script = script(intro=bad("number_not_in_inputs")["sentence"])
    assert await period_prose.period_intro(runtime, takeaways=[], **kw) is None

    bot.llm = None  # offline
    assert await period_prose.period_intro(runtime, takeaways=[], **kw) is None
    fake_llm.down()
    down = make_client(fake_llm.url, max_attempts=1)
    bot.llm = down
    assert await period_prose.period_intro(runtime, takeaways=[], **kw) is None
    await client.aclose()
    await down.aclose()


async def test_the_monthly_why_comes_from_the_reason_and_votes_only(
    bot: Bot, fake_llm: OpenAIFake
) -> None:
    q = quarter()
    who = {m["key"]: m["display_name"] for m in q["members"]}
    pick = answers()["monthly_picks"]["2026-08"][0]
    pr = next(p for p in q["proposals"] if p["arxiv_id"] == pick["arxiv_id"])
    title = next(p["title"] for p in q["papers"] if p["arxiv_id"] == pick["arxiv_id"])
    client = make_client(fake_llm.url)
    bot.llm = client
    runtime = bot
    kw: dict[str, Any] = {
        "force": True,  # each answer below is asked anew
        "title": title,
        "proposer": who[pr["proposer"]],
        "reason": pr["why"],
        "votes": len(pr["votes"]),
        "voters": [who[v] for v in pr["votes"]],
    }
    fake_llm.script = script(why=pick["why"])
    assert await period_prose.monthly_why(runtime, **kw) == pick["why"]
    prompt = fake_llm.requests[-1]["messages"][1]["content"]
    assert "<untrusted_reason>" in prompt and pr["why"] in prompt
    assert "<untrusted_abstract>" not in prompt

    fake_llm.script = script(why="Used by 40 teams at Google, it is a must-read.")
    assert await period_prose.monthly_why(runtime, **kw) is None
    bot.llm = None
    assert await period_prose.monthly_why(runtime, **kw) is None
    await client.aclose()


async def test_a_write_up_given_with_the_tldr_takes_one_call_and_is_cached(
    bot: Bot, fake_llm: OpenAIFake
) -> None:
    """The tl;dr prompt asks for the write-up too when there is a thread: one
    round of waiting on the model per paper instead of two."""
    inputs = await _seed(bot)
    papers = answers()["papers"]

    def combined(system: str, user: str) -> dict[str, Any] | None:
        m = _ARXIV.search(user)
        if m is None or '"paragraphs": [string' not in system:
            return None  # only the tl;dr prompt is expected
        a = papers[m.group(1)]
        return {
            **a["tldr"],
            "why_it_matters": a["why_it_matters"],
            "paragraphs": a["write_up"]["paragraphs"],
        }

    fake_llm.script = combined
    client = make_client(fake_llm.url)
    got, stats = await summarize_papers(inputs, db=bot.db, llm=client, now=NOW)
    assert stats.calls == len(inputs) and stats.write_ups == len(inputs)
    assert all(got[p.paper_id].write_up for p in inputs)
    before = len(fake_llm.requests)
    again, stats2 = await summarize_papers(inputs, db=bot.db, llm=client, now=NOW)
    assert len(fake_llm.requests) == before and stats2.calls == 0
    assert all(again[p.paper_id] == got[p.paper_id] for p in inputs)
    await client.aclose()
