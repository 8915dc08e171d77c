"""Per-paper summaries: validation, one retry on invalid output, the offline
extractive fallback, "why it matters" never invented, the cache and token log."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError
from sqlmodel import select

from bot.app import Bot
from bot.digest.llm_summary import LlmOutput
from bot.digest.offline_summary import extractive
from bot.digest.summaries import summarize_papers
from bot.digest.summary_types import OFFLINE_MODEL, PaperInput, sentences
from bot.infra import prompts
from storage.digest.tables import LlmCall, PaperSummary
from tests.digest.conftest import make_client, real_papers, seed
from tests.fakes.openai_fake import OpenAIFake

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def _input(i: int = 0, **kw: object) -> PaperInput:
    real = real_papers()[i]
    fields: dict[str, object] = {
        "paper_id": i + 1,
        "arxiv_id": real.arxiv_id,
        "version": 1,
        "title": real.title,
        "authors": real.authors,
        "abstract": real.abstract,
    }
    fields.update(kw)
    return PaperInput(**fields)  # type: ignore[arg-type]


def test_sentences_keep_abbreviations_and_decimals_together() -> None:
    text = "We use e.g. BERT and get 87.5% accuracy. Smith et al. disagree! Is it so? Yes."
    assert sentences(text) == [
        "We use e.g. BERT and get 87.5% accuracy.",
        "Smith et al. disagree!",
        "Is it so?",
        "Yes.",
    ]


@pytest.mark.parametrize("i", range(6))
def test_the_offline_summary_uses_only_the_abstracts_own_sentences(i: int) -> None:
    p = _input(i)
    s = extractive(p)
    abstract = " ".join(p.abstract.split())
    assert s.offline and s.model == OFFLINE_MODEL and s.why_it_matters is None
    assert s.tldr and "…" not in s.tldr
    assert 1 <= len(s.key_insights) <= 3
    for k in s.key_insights:
        assert "…" not in k and k != s.tldr
    # the abstract's own words; the first person becomes "the authors" (test_offline_summary)
    words = set(re.findall(r"\w+", abstract.lower())) | {"the", "authors", "they", "their", "them"}
    assert set(re.findall(r"\w+", (s.tldr + " ".join(s.key_insights)).lower())) <= words
    assert extractive(p) == s  # deterministic


def test_the_offline_summary_prefers_the_sentence_that_states_the_contribution() -> None:
    abstract = (
        "Deep networks are widely used. Training them is expensive. "
        "We propose LowRankAdapt, which fine-tunes deep networks with 100x fewer parameters. "
        "Experiments on GLUE confirm it."
    )
    tldr = extractive(_input(abstract=abstract)).tldr
    assert tldr.startswith("The authors propose LowRankAdapt")


def test_the_validated_result_enforces_two_sentences_and_two_to_four_insights() -> None:
    ok = LlmOutput.model_validate(
        {"tldr": "One. Two.", "key_insights": ["a", "b"], "why_it_matters": "null"}
    )
    assert ok.why_it_matters is None
    with pytest.raises(ValidationError, match="at most 2"):
        LlmOutput.model_validate({"tldr": "One. Two. Three.", "key_insights": ["a", "b"]})
    with pytest.raises(ValidationError, match="2 to 4"):
        LlmOutput.model_validate({"tldr": "One.", "key_insights": ["a"]})
    with pytest.raises(ValidationError, match="2 to 4"):
        LlmOutput.model_validate({"tldr": "One.", "key_insights": list("abcde")})


async def _run(bot: Bot, papers: list[PaperInput], client, **kw):  # type: ignore[no-untyped-def]
    return await summarize_papers(papers, db=bot.db, llm=client, now=NOW, **kw)


def _seeded_inputs(bot: Bot, n: int, *, takeaways: bool = False) -> list[PaperInput]:
    s = seed(bot, sessions=n, takeaways=takeaways)
    return [
        PaperInput.of(p, info.takeaways, info.discussion)
        for p, info in zip(s.papers, s.sessions, strict=True)
    ]


async def test_why_it_matters_is_left_out_without_takeaways_even_if_the_model_invents_it(
    bot: Bot, fake_llm: OpenAIFake
) -> None:
    client = make_client(fake_llm.url)
    without = _seeded_inputs(bot, 1, takeaways=False)
    got, _ = await _run(bot, without, client)
    s = got[without[0].paper_id]
    assert s.source == "llm" and s.why_it_matters is None
    await client.aclose()


async def test_why_it_matters_comes_from_the_takeaways_when_there_are_some(
    bot: Bot, fake_llm: OpenAIFake
) -> None:
    client = make_client(fake_llm.url)
    inputs = _seeded_inputs(bot, 1, takeaways=True)
    got, _ = await _run(bot, inputs, client)
    why = got[inputs[0].paper_id].why_it_matters
    assert why and "ablations were the most convincing" in why
    prompt = fake_llm.requests[0]["messages"][1]["content"]
    assert "<untrusted_takeaways>" in prompt and "<untrusted_abstract>" in prompt
    await client.aclose()


async def test_invalid_output_gets_one_retry_then_the_llm_answer_is_used(
    bot: Bot, fake_llm: OpenAIFake
) -> None:
    fake_llm.invalid(1)
    client = make_client(fake_llm.url)
    inputs = _seeded_inputs(bot, 1)
    got, stats = await _run(bot, inputs, client)
    assert got[inputs[0].paper_id].source == "llm"
    assert len(fake_llm.requests) == 2
    retry = fake_llm.requests[1]["messages"]
    assert "not valid" in retry[-1]["content"]  # told what was wrong
    outcomes = await bot.db(lambda *, session: [c.outcome for c in session.exec(select(LlmCall))])
    assert outcomes == ["invalid_output", "ok"]
    assert stats.calls == 2
    await client.aclose()


async def test_invalid_output_twice_falls_back_to_the_offline_summary(
    bot: Bot, fake_llm: OpenAIFake
) -> None:
    fake_llm.invalid(2)
    client = make_client(fake_llm.url)
    inputs = _seeded_inputs(bot, 1)
    got, stats = await _run(bot, inputs, client)
    assert got[inputs[0].paper_id].offline and stats.offline == 1
    assert len(fake_llm.requests) == 2  # exactly one retry
    await client.aclose()


async def test_a_second_run_with_nothing_changed_makes_no_llm_call(
    bot: Bot, fake_llm: OpenAIFake
) -> None:
    client = make_client(fake_llm.url)
    inputs = _seeded_inputs(bot, 3, takeaways=True)
    first, s1 = await _run(bot, inputs, client)
    assert s1.calls == 3 and s1.prompt_tokens > 0 and s1.completion_tokens > 0
    second, s2 = await _run(bot, inputs, client)
    assert len(fake_llm.requests) == 3 and s2.calls == 0 and s2.reused == 3
    assert second == first
    rows = await bot.db(lambda *, session: session.exec(select(PaperSummary)).all())
    assert {r.prompt_hash for r in rows} == {prompts.load("tldr").version}
    assert {r.model for r in rows} == {"test-model"}
    await client.aclose()


async def test_changed_takeaways_a_new_paper_version_or_model_miss_the_cache(
    bot: Bot, fake_llm: OpenAIFake
) -> None:
    client = make_client(fake_llm.url)
    [p] = _seeded_inputs(bot, 1, takeaways=True)
    await _run(bot, [p], client)
    await _run(
        bot, [PaperInput(**{**p.__dict__, "takeaways": (*p.takeaways, "New point.")})], client
    )
    await _run(bot, [PaperInput(**{**p.__dict__, "version": 2})], client)
    other = make_client(fake_llm.url)
    other.model = "another-model"
    await _run(bot, [p], other)
    assert len(fake_llm.requests) == 4
    await client.aclose()
    await other.aclose()


async def test_a_changed_prompt_file_misses_the_cache(
    bot: Bot, fake_llm: OpenAIFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = make_client(fake_llm.url)
    [p] = _seeded_inputs(bot, 1)
    await _run(bot, [p], client)
    original = prompts.load("tldr")
    text = "---\nkind: prompt\nsystem: changed\n---\n" + original.body
    changed = prompts.parse("tldr", text)
    assert changed.version != original.version
    monkeypatch.setattr(prompts, "load", lambda name: changed if name == "tldr" else original)
    await _run(bot, [p], client)
    assert len(fake_llm.requests) == 2
    await client.aclose()


async def test_without_a_client_every_summary_is_offline_and_nothing_is_logged(bot: Bot) -> None:
    inputs = _seeded_inputs(bot, 2)
    got, stats = await _run(bot, inputs, None)
    assert all(s.offline for s in got.values()) and stats.offline == 2 and stats.calls == 0
    assert await bot.db(lambda *, session: session.exec(select(LlmCall)).all()) == []


async def test_offline_summaries_are_not_cached_so_the_llm_is_asked_again_later(
    bot: Bot, fake_llm: OpenAIFake
) -> None:
    fake_llm.down()
    client = make_client(fake_llm.url, breaker_cooldown=0)
    inputs = _seeded_inputs(bot, 1)
    got, _ = await _run(bot, inputs, client)
    assert got[inputs[0].paper_id].offline
    fake_llm.up()
    got, _ = await _run(bot, inputs, client)
    assert got[inputs[0].paper_id].source == "llm"
    await client.aclose()


async def test_a_draft_waits_for_the_llm_at_most_its_deadline_then_goes_offline(
    bot: Bot, fake_llm: OpenAIFake
) -> None:
    fake_llm.hang(10)
    client = make_client(fake_llm.url, timeout=30)
    inputs = _seeded_inputs(bot, 2)
    got, stats = await _run(bot, inputs, client, deadline=0.3)
    assert all(s.offline for s in got.values()) and stats.offline == 2
    await client.aclose()
