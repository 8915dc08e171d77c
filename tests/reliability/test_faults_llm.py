"""The LLM's bad days seen through `/digest`: 429, 500, requests that never
answer, and answers that are not the JSON we asked for. The client's retries
are tested in tests/digest/test_llm_client.py; here the whole path is: the
organizer still gets a draft, each offline summary labelled as such, and the
draft can be approved like any other."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from bot.app import Bot
from bot.chat.events import Command
from bot.chat.replies import Buttons, Reply, to_plain
from bot.digest import summaries
from bot.digest import weekly as dg
from bot.digest.paper_entry import ALL_FROM_ABSTRACTS
from bot.infra.clock import ManualClock
from tests.digest import conftest as digest_fixtures
from tests.digest.conftest import ORGANIZER, PLACE, WEEK, at, make_client, seed
from tests.fakes.openai_fake import OpenAIFake

# The digest engineer's fixtures: the fake LLM endpoint and the sessions stub.
fake_llm = digest_fixtures.fake_llm
sessions_patch = digest_fixtures.sessions_patch

PAPERS = 2
#: Each fault outlasts the client's attempts (the client below tries twice).
FAULTS: dict[str, Callable[[OpenAIFake], None]] = {
    "429": lambda f: f.fail(429, count=100, retry_after=0.01),
    "500": lambda f: f.fail(500, count=100),
    "timeout": lambda f: f.hang(count=100),
    "invalid JSON": lambda f: f.invalid(count=100),
}


async def _no_followups(reply: Reply) -> None:
    raise AssertionError(f"unexpected follow-up {reply}")


@pytest.fixture
async def faulty_bot(bot: Bot, fake_llm: OpenAIFake) -> AsyncIterator[Bot]:
    """The production client, with short timeouts so a hang costs < 1 s."""
    client = make_client(fake_llm.url, timeout=0.3, max_attempts=2, breaker_cooldown=0.0)
    summaries.set_llm(bot, client)
    bot.clock = ManualClock(at(WEEK))
    yield bot
    await client.aclose()


@pytest.mark.parametrize("fault", sorted(FAULTS))
async def test_the_digest_still_drafts_with_labelled_offline_summaries(
    faulty_bot: Bot,
    fake_llm: OpenAIFake,
    sessions_patch: list,  # type: ignore[type-arg]
    fault: str,
) -> None:
    sessions_patch.extend(seed(faulty_bot, sessions=PAPERS).sessions)
    FAULTS[fault](fake_llm)
    [reply] = await faulty_bot.handle(Command("digest", "", ORGANIZER, PLACE), _no_followups)
    text = to_plain(reply)
    assert reply.private, "the draft is for the organizer's eyes only"
    # one note says the summaries come from the abstracts (not one per paper)
    assert text.count(ALL_FROM_ABSTRACTS) == 1, f"{fault}: {text[:800]}"
    assert f"{PAPERS} summaries are extractive (offline)" in text
    assert fake_llm.requests, "the LLM was never asked"
    actions = [b.action for blk in reply.blocks if isinstance(blk, Buttons) for b in blk.buttons]
    assert dg.APPROVE in actions, "an offline draft can still be approved"
