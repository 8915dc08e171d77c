"""What stands between arXiv's answer and a new paper's card (issue 15, goal
2): no work that is not the card's own lands at that moment. Checked by what
runs, never by how long it takes."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.app import Bot
from bot.chat.events import Actor, Command, Place
from bot.chat.replies import Reply, to_plain
from bot.papers import proposals
from bot.papers.fetch import retry_once
from tests.fakes.arxiv_server import FakeArxiv

PLACE = Place("console", "local", "general")
TITLE = "Heat-bath random walks with Markov bases"


async def _no_followup(reply: Reply) -> None:
    raise AssertionError(f"unexpected follow-up {reply}")


async def test_a_retry_pass_during_a_handlers_fetch_adds_no_card_query_for_it(
    bot: Bot, fake_arxiv: FakeArxiv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new paper is pending (due for the retry pass at once) while its
    /propose handler waits for arXiv. The pass must leave it to the handler:
    joining the fetch made it look for owed cards of that paper the moment
    arXiv answered, one query per paper, queued ahead of the handlers' cards
    (the load benchmark's first cards came 60-80 ms late behind 39 of them)."""
    asked: list[Any] = []
    owed = proposals.owed_cards

    def counted(**kwargs: Any) -> list[proposals.OwedCard]:
        asked.append(kwargs.get("paper_id"))
        return owed(**kwargs)

    monkeypatch.setattr(proposals, "owed_cards", counted)
    # The pass has read which papers are due (a database call in a thread,
    # slow on a busy machine): only then is the answer released, as when
    # arXiv answers while the pass is under way.
    loop = asyncio.get_running_loop()
    read_due = asyncio.Event()
    due = proposals.due_pending_papers

    def watched(**kwargs: Any) -> Any:
        try:
            return due(**kwargs)
        finally:
            loop.call_soon_threadsafe(read_due.set)

    monkeypatch.setattr(proposals, "due_pending_papers", watched)
    fake_arxiv.hold()
    actor = Actor("console", "alice", "Alice")
    handler = asyncio.ensure_future(
        bot.handle(Command("propose", "1605.08386", actor, PLACE), _no_followup)
    )
    await fake_arxiv.requests_seen(1)  # the handler waits on the held answer
    passing = asyncio.ensure_future(retry_once(bot))
    await asyncio.wait_for(read_due.wait(), 30)
    for _ in range(20):  # let the pass reach as far as it goes before the answer
        await asyncio.sleep(0)
    fake_arxiv.release()
    replies = await handler
    await passing
    assert [r for r in replies if not r.private and TITLE in to_plain(r)]
    assert asked == [None]  # the pass's sweep of all owed cards, nothing for this paper
    assert len(fake_arxiv.requests) == 1


async def test_a_propose_is_announced_to_arxiv_at_its_acceptance_and_released_by_its_handler(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The adapter announces a /propose naming papers before acknowledging it
    (bot.app.expect_lookups); its handler ends the announcement once its
    look-ups are asked, so a request about to start waits only that long."""
    from bot.app import expect_lookups

    seen: list[tuple[str, object]] = []
    monkeypatch.setattr(bot.arxiv, "expect", lambda key: seen.append(("expect", key)))
    done = bot.arxiv.expected_done
    monkeypatch.setattr(
        bot.arxiv, "expected_done", lambda key: (seen.append(("done", key)), done(key))
    )
    actor = Actor("console", "alice", "Alice")
    command = Command("propose", "1605.08386 a good one", actor, PLACE)
    expect_lookups(bot, Command("propose", "no ids here", actor, PLACE), 6)
    expect_lookups(bot, Command("queue", "", actor, PLACE), 5)
    expect_lookups(bot, command, 7)
    assert seen == [("expect", ("propose", 7))]
    replies = await bot.handle(command, _no_followup, request_id=7)
    assert [r for r in replies if not r.private and TITLE in to_plain(r)]
    assert seen[1] == ("done", ("propose", 7))
