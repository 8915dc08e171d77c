"""arXiv's bad days seen through `/propose`: 503, 429, timeouts, truncated XML
and spurious empty pages. The client's own retries are tested in
tests/infra/test_arxiv_client.py; here the whole path is: the proposer is told,
the proposal is kept (in /queue at once), and once arXiv answers again the
card is posted exactly once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import timedelta

import pytest

from bot.app import Bot
from bot.chat.events import Actor, Command, Place
from bot.chat.messenger import NullMessenger
from bot.chat.replies import Reply, to_plain
from bot.infra.arxiv_client import ArxivClient
from bot.infra.clock import ManualClock
from bot.papers import fetch
from bot.papers.fetch import retry_once
from tests.fakes.arxiv_server import FakeArxiv

PLACE = Place("console", "local", "general")
TITLE = "Heat-bath random walks with Markov bases"

#: How each fault is switched on (it lasts until ``fake.reset()``).
FAULTS: dict[str, Callable[[FakeArxiv], None]] = {
    "503": lambda f: f.fail(503),
    "429 with Retry-After": lambda f: f.fail(429, retry_after=0.05),
    "timeout": lambda f: f.delay(1.0),  # the client below gives up after 0.3 s
    "malformed XML": lambda f: f.malformed(count=1000),
}


async def _run(bot: Bot, text: str, user: str = "alice") -> list[Reply]:
    name, _, rest = text.lstrip("/").partition(" ")
    followups: list[Reply] = []

    async def respond(reply: Reply) -> None:
        followups.append(reply)

    replies = await bot.handle(
        Command(name, rest, Actor("console", user, user.title()), PLACE), respond
    )
    return [*replies, *followups]


def _text(replies: list[Reply]) -> str:
    return "\n".join(to_plain(r) for r in replies)


@pytest.fixture
def flaky_bot(bot: Bot, fake_arxiv: FakeArxiv, monkeypatch: pytest.MonkeyPatch) -> Bot:
    """Short timeouts and few attempts, so a fault outlasts the handler's wait."""
    bot.clock = ManualClock(bot.clock.now())
    bot.arxiv = ArxivClient(
        api_url=fake_arxiv.url, min_interval=0.02, backoff=0.02, attempts=2, timeout=0.3
    )
    bot.messenger = NullMessenger()
    monkeypatch.setattr(fetch, "ARXIV_WAIT_SECONDS", 2.0)
    return bot


@pytest.mark.parametrize("fault", sorted(FAULTS))
async def test_propose_during_an_arxiv_fault_is_kept_told_and_completed_once(
    flaky_bot: Bot, fake_arxiv: FakeArxiv, fault: str
) -> None:
    bot = flaky_bot
    FAULTS[fault](fake_arxiv)
    [told] = await _run(bot, "/propose https://arxiv.org/abs/1605.08386 for the fault test")
    assert told.private, f"{fault}: the answer should be private"
    assert "Saved your proposal" in to_plain(told), to_plain(told)
    assert "arXiv:1605.08386" in _text(await _run(bot, "/queue")), "proposal not kept"
    messenger = bot.messenger
    assert isinstance(messenger, NullMessenger) and not messenger.sent

    fake_arxiv.reset()  # arXiv is back
    clock = bot.clock
    assert isinstance(clock, ManualClock)
    started = time.monotonic()
    while not messenger.sent and time.monotonic() - started < 15:
        clock.advance(timedelta(minutes=30))  # past any back-off
        await retry_once(bot)
        await asyncio.sleep(0.1)
    assert messenger.sent, f"{fault}: the card never followed"
    clock.advance(timedelta(hours=2))
    await retry_once(bot)
    await asyncio.sleep(0.2)
    [(channel, card)] = messenger.sent  # exactly once
    assert channel == "general" and TITLE in to_plain(card)
    assert "for the fault test" in to_plain(card), "the proposer's reason was lost"


async def test_a_spurious_empty_page_does_not_lose_or_reject_the_proposal(
    flaky_bot: Bot, fake_arxiv: FakeArxiv
) -> None:
    """arXiv sometimes answers 200 with an empty feed for a paper that exists:
    that is not 'no such paper'; the card comes as usual."""
    fake_arxiv.empty(count=1)
    replies = await _run(flaky_bot, "/propose 1605.08386 empty page first")
    cards = [r for r in replies if not r.private]
    assert cards and TITLE in to_plain(cards[0]), _text(replies)
    assert len(fake_arxiv.requests) >= 2  # the empty page was retried, not believed


async def test_empty_pages_that_persist_mean_no_such_paper_and_say_what_to_do(
    flaky_bot: Bot, fake_arxiv: FakeArxiv
) -> None:
    """Empty every time: confirmed not found; the user is told how to fix the id
    (nothing to keep: arXiv does not know the paper)."""
    fake_arxiv.empty(count=1000)
    [told] = await _run(flaky_bot, "/propose 1605.08386")
    assert told.private and "arXiv has no paper" in to_plain(told)
    assert "propose again" in to_plain(told)
