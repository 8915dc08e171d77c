"""The LLM client against the fake OpenAI-compatible endpoint (real HTTP)."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.infra.llm import CallRecord, LlmError, client_from_settings
from bot.infra.settings import Settings
from tests.digest.conftest import make_client
from tests.fakes.openai_fake import OpenAIFake

MESSAGES = [{"role": "system", "content": "s"}, {"role": "user", "content": "Paper: X\n"}]


async def test_a_429_is_retried_after_the_servers_retry_after(fake_llm: OpenAIFake) -> None:
    fake_llm.fail(429, retry_after=0.3)
    client = make_client(fake_llm.url)
    records: list[CallRecord] = []
    started = time.monotonic()
    done = await client.complete(MESSAGES, records=records)
    assert time.monotonic() - started >= 0.3  # waited as told, not our 0.01 s backoff
    assert [r.outcome for r in records] == ["rate_limited", "ok"]
    assert done.prompt_tokens > 0 and records[-1].total_tokens > 0
    assert len(fake_llm.requests) == 2  # the SDK's own retries are off
    await client.aclose()


async def test_a_retry_after_longer_than_the_cap_gives_up_at_once(fake_llm: OpenAIFake) -> None:
    fake_llm.fail(429, retry_after=600)
    client = make_client(fake_llm.url, max_retry_after=5)
    with pytest.raises(LlmError, match="wait 600"):
        await client.complete(MESSAGES, records=[])
    assert len(fake_llm.requests) == 1
    await client.aclose()


async def test_server_errors_are_retried_with_backoff_then_succeed(fake_llm: OpenAIFake) -> None:
    fake_llm.fail(500, count=1)
    fake_llm.fail(503, count=1)
    client = make_client(fake_llm.url, breaker_threshold=10)
    records: list[CallRecord] = []
    await client.complete(MESSAGES, records=records)
    assert [r.outcome for r in records] == ["server_error", "server_error", "ok"]
    await client.aclose()


async def test_a_request_that_never_answers_times_out_and_is_retried(fake_llm: OpenAIFake) -> None:
    fake_llm.hang(1)
    client = make_client(fake_llm.url, timeout=0.3)
    records: list[CallRecord] = []
    await client.complete(MESSAGES, records=records)
    assert [r.outcome for r in records] == ["timeout", "ok"]
    await client.aclose()


async def test_a_rejected_response_format_falls_back_to_json_in_the_prompt(
    fake_llm: OpenAIFake,
) -> None:
    fake_llm.reject_response_format = True
    client = make_client(fake_llm.url)
    records: list[CallRecord] = []
    await client.complete(MESSAGES, records=records)
    await client.complete(MESSAGES, records=records)
    assert [r.outcome for r in records] == ["rejected_format", "ok", "ok"]
    sent = [("response_format" in r) for r in fake_llm.requests]
    assert sent == [True, False, False]  # remembered: asked once, never again
    assert fake_llm.requests[0]["response_format"] == {"type": "json_object"}
    await client.aclose()


async def test_concurrency_is_bounded_by_the_semaphore(fake_llm: OpenAIFake) -> None:
    fake_llm.latency = 0.2
    client = make_client(fake_llm.url, concurrency=4)
    await asyncio.gather(*(client.complete(MESSAGES, records=[]) for _ in range(10)))
    assert fake_llm.max_in_flight == 4
    await client.aclose()


async def test_the_concurrency_is_the_setting(fake_llm: OpenAIFake) -> None:
    """READGROUP_LLM_CONCURRENCY reaches the client the bot builds."""
    settings = Settings(
        OPENAI_API_KEY="k",
        OPENAI_BASE_URL=fake_llm.url,
        READGROUP_LLM_CONCURRENCY=8,
        _env_file=None,  # type: ignore[call-arg]
    )
    client = client_from_settings(settings)
    assert client is not None
    fake_llm.latency = 0.2
    await asyncio.gather(*(client.complete(MESSAGES, records=[]) for _ in range(16)))
    assert fake_llm.max_in_flight == 8
    await client.aclose()


def test_a_concurrency_below_one_is_refused_with_the_setting_named() -> None:
    with pytest.raises(ValueError, match="READGROUP_LLM_CONCURRENCY"):
        Settings(READGROUP_LLM_CONCURRENCY=0, _env_file=None)  # type: ignore[call-arg]


async def test_a_dead_endpoint_opens_the_breaker_and_later_calls_fail_fast(
    fake_llm: OpenAIFake,
) -> None:
    fake_llm.down()
    client = make_client(fake_llm.url, max_attempts=5, breaker_threshold=3)
    with pytest.raises(LlmError):
        await client.complete(MESSAGES, records=[])
    assert len(fake_llm.requests) == 3
    started = time.monotonic()
    with pytest.raises(LlmError, match="breaker"):
        await client.complete(MESSAGES, records=[])
    assert len(fake_llm.requests) == 3 and time.monotonic() - started < 0.1
    await client.aclose()


async def test_an_unreachable_endpoint_is_an_llm_error_not_a_crash() -> None:
    async with OpenAIFake() as fake:
        url = fake.url
    client = make_client(url)  # the port is closed now
    records: list[CallRecord] = []
    with pytest.raises(LlmError):
        await client.complete(MESSAGES, records=records)
    assert records and all(r.outcome == "connection_error" for r in records)
    await client.aclose()


async def test_the_api_key_and_model_are_sent(fake_llm: OpenAIFake) -> None:
    client = make_client(fake_llm.url)
    await client.complete(MESSAGES, records=[], temperature=0.2, max_tokens=50)
    body = fake_llm.requests[0]
    assert body["_auth"] == "Bearer sk-test"
    assert body["model"] == "test-model" and body["temperature"] == 0.2
    assert body["max_tokens"] == 50
    await client.aclose()
