"""arXiv cannot be reached at all (a refused connection, a name that does not
resolve): /propose says so at once, keeps the proposal, retries with back-off
and posts the card when arXiv is back; the log says it in one short line."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import pytest

from bot.app import Bot
from bot.chat.events import Actor, Command, Place
from bot.chat.messenger import NullMessenger
from bot.chat.replies import Reply, to_plain
from bot.infra.arxiv_client import ArxivClient, ArxivUnavailable
from bot.infra.clock import ManualClock
from bot.papers.fetch import retry_once
from tests.fakes.arxiv_server import FakeArxiv
from tests.ports import free_port

PLACE = Place("console", "local", "general")
TITLE = "Heat-bath random walks with Markov bases"


def closed_port_url() -> str:
    return f"http://127.0.0.1:{free_port()}/api/query"


async def run(bot: Bot, text: str) -> list[Reply]:
    name, _, rest = text.lstrip("/").partition(" ")

    async def no_followup(reply: Reply) -> None:
        raise AssertionError(reply)

    return await bot.handle(
        Command(name, rest, Actor("console", "alice", "Alice"), PLACE), no_followup
    )


async def test_propose_with_arxiv_refusing_connections_answers_at_once_and_completes_later(
    bot: Bot, fake_arxiv: FakeArxiv, caplog: pytest.LogCaptureFixture
) -> None:
    clock = ManualClock(bot.clock.now())
    bot.clock = clock
    messenger = NullMessenger()
    bot.messenger = messenger
    # Production retry settings: a refused connection must not wait for them.
    bot.arxiv = ArxivClient(api_url=closed_port_url(), min_interval=0.05)
    caplog.set_level(logging.WARNING)
    started = time.monotonic()
    [told] = await run(bot, "/propose 1605.08386 worth it")
    assert time.monotonic() - started < 2.0
    said = to_plain(told)
    assert told.private and "Saved your proposal" in said and "can't reach arXiv" in said
    assert "arXiv:1605.08386" in to_plain((await run(bot, "/queue"))[0])
    lines = [r for r in caplog.records if r.name.startswith("bot.")]
    assert lines and all(not r.exc_info and len(r.getMessage()) < 200 for r in lines)
    assert all("\n" not in r.getMessage() for r in lines)
    assert await retry_once(bot) == 0  # backing off: not due yet, nothing asked
    # arXiv is back: the retry after the back-off fills the paper in and posts the card.
    bot.arxiv = ArxivClient(api_url=fake_arxiv.url, min_interval=0.05)
    clock.advance(timedelta(minutes=1))
    assert await retry_once(bot) == 1
    [(channel, card)] = messenger.sent
    assert channel == "general" and TITLE in to_plain(card) and "worth it" in to_plain(card)


async def test_a_host_that_does_not_resolve_fails_without_retries() -> None:
    client = ArxivClient(api_url="http://nonexistent.invalid/api/query", min_interval=0.05)
    started = time.monotonic()
    with pytest.raises(ArxivUnavailable, match=r"can.t reach nonexistent\.invalid") as info:
        await client.lookup("1605.08386")
    assert "does not resolve" in str(info.value)
    assert client.requests_made == 1 and time.monotonic() - started < 5
    await client.aclose()
