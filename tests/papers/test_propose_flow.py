"""/propose, /queue, votes and arXiv outages through the core router, with the
fake arXiv serving real Atom responses, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from datetime import timedelta

import pytest

from bot.app import Bot
from bot.chat.events import Action, Actor, Command, Place
from bot.chat.messenger import NullMessenger
from bot.chat.replies import Buttons, Reply, to_plain
from bot.infra.arxiv_client import ArxivClient
from bot.infra.clock import ManualClock
from bot.papers import fetch
from bot.papers.fetch import retry_once
from tests.fakes.arxiv_server import LOOPBACK_JITTER, FakeArxiv

PLACE = Place("console", "local", "general")
TITLE = "Heat-bath random walks with Markov bases"


def actor(name: str, admin: bool = False) -> Actor:
    return Actor("console", name, name.title(), is_admin=admin)


async def run(bot: Bot, text: str, user: str = "alice") -> list[Reply]:
    name, _, rest = text.lstrip("/").partition(" ")
    return await bot.handle(Command(name, rest, actor(user), PLACE), _no_followup)


async def _no_followup(reply: Reply) -> None:
    raise AssertionError(f"unexpected follow-up {reply}")


def text_of(replies: list[Reply]) -> str:
    return "\n".join(to_plain(r) for r in replies)


def buttons(replies: list[Reply]) -> list:  # type: ignore[type-arg]
    return [b for r in replies for blk in r.blocks if isinstance(blk, Buttons) for b in blk.buttons]


async def test_propose_posts_a_card_and_queue_lists_it(bot: Bot) -> None:
    replies = await run(bot, "/propose https://arxiv.org/abs/1605.08386 good one")
    assert len(replies) == 1 and not replies[0].private
    card = text_of(replies)
    assert TITLE in card and "Caprice Stanley" in card and "Why: good one" in card
    assert [b.action for b in buttons(replies)] == ["upvote"]
    queue = text_of(await run(bot, "/queue", user="bob"))
    assert TITLE in queue and "1 vote" in queue and "proposed by Alice" in queue


async def test_dedupe_across_forms_answers_privately_and_counts_the_vote(bot: Bot) -> None:
    await run(bot, "/propose 1605.08386")
    dup = await run(bot, "/propose https://arxiv.org/pdf/1605.08386v1.pdf", user="bob")
    assert dup[0].private
    said = text_of(dup)
    assert "already proposed by Alice on" in said and "it now has 2 votes." in said
    again = text_of(
        await run(bot, "/propose <https://arxiv.org/abs/1605.08386v1|paper>", user="bob")
    )
    assert "You have already voted for it (2 votes)." in again
    assert "2 votes" in text_of(await run(bot, "/queue"))
    assert bot.arxiv.requests_made == 1  # metadata fetched once, then from the database


async def test_upvote_button_toggles_and_updates_the_card(bot: Bot) -> None:
    [card] = await run(bot, "/propose 1605.08386")
    [button] = buttons([card])
    press = Action(button.action, button.value, actor("bob"), PLACE)
    [updated, counted] = await bot.handle(press, _no_followup)
    assert updated.replace and "Upvote (2)" in buttons([updated])[0].label
    assert counted.private and not counted.replace
    assert to_plain(counted).startswith(f"Vote counted: {TITLE} now has 2 votes.")
    [undone, removed] = await bot.handle(press, _no_followup)
    assert "Upvote (1)" in buttons([undone])[0].label
    assert removed.private
    assert to_plain(removed).startswith(f"Your vote was removed: {TITLE} now has 1 vote.")


async def test_a_vote_on_a_withdrawn_card_goes_to_the_papers_open_proposal(bot: Bot) -> None:
    [old_card] = await run(bot, "/propose 1605.08386")
    [old_button] = buttons([old_card])
    await run(bot, "/withdraw 1605.08386")
    [closed] = await bot.handle(
        Action(old_button.action, old_button.value, actor("bob"), PLACE), _no_followup
    )
    assert closed.private and "withdrawn" in to_plain(closed) and "/propose" in to_plain(closed)

    [new_card] = await run(bot, "/propose 1605.08386", user="carol")
    [new_button] = buttons([new_card])
    assert new_button.value != old_button.value
    press = Action(old_button.action, old_button.value, actor("bob"), PLACE)
    [card, note] = await bot.handle(press, _no_followup)
    # The old card now shows the open proposal, and its button votes there.
    assert card.replace and [b.value for b in buttons([card])] == [new_button.value]
    assert "Upvote (2)" in buttons([card])[0].label
    said = to_plain(note)
    assert note.private and "proposal was withdrawn, but the paper is open again" in said
    assert "proposed by Carol" in said and "Vote counted" in said
    assert "2 votes" in text_of(await run(bot, "/queue"))

    await run(bot, "/withdraw 1605.08386", user="carol")
    [closed] = await bot.handle(press, _no_followup)
    assert closed.private and "Voting is closed" in to_plain(closed)


async def test_bad_reference_gets_a_private_error_with_examples_and_the_input(bot: Bot) -> None:
    [reply] = await run(bot, "/propose not-a-paper because reasons")
    assert reply.private
    said = to_plain(reply)
    assert "not-a-paper" in said and "2401.01234" in said and "because reasons" in said
    [empty] = await run(bot, "/propose")
    assert empty.private and "/propose" in to_plain(empty)
    assert bot.arxiv.requests_made == 0


async def test_unknown_paper_is_not_kept(bot: Bot) -> None:
    [reply] = await run(bot, "/propose 2501.99999")
    assert reply.private and "arXiv has no paper" in to_plain(reply)
    assert "queue is empty" in text_of(await run(bot, "/queue"))


async def test_arxiv_400_gets_the_invalid_reference_answer(bot: Bot, fake_arxiv: FakeArxiv) -> None:
    fake_arxiv.reject("2501.00001")
    [reply] = await run(bot, "/propose 2501.00001")
    assert reply.private and "not a valid arXiv id" in to_plain(reply)
    assert "queue is empty" in text_of(await run(bot, "/queue"))


async def test_withdraw_by_proposer_or_organizer_only(bot: Bot) -> None:
    await run(bot, "/propose 1605.08386")
    [denied] = await run(bot, "/withdraw 1605.08386", user="bob")
    assert denied.private and "Only Alice" in to_plain(denied)
    [ok] = await run(bot, "/withdraw https://arxiv.org/abs/1605.08386")
    assert "Withdrew" in to_plain(ok)
    assert "queue is empty" in text_of(await run(bot, "/queue"))
    [missing] = await run(bot, "/withdraw 1605.08386")
    assert "not in this group's queue" in to_plain(missing)


async def test_history_finds_papers_by_words(bot: Bot) -> None:
    await run(bot, "/propose 1605.08386")
    await run(bot, "/propose hep-ex/0406020v1")
    found = text_of(await run(bot, "/history markov"))
    assert TITLE in found and "(1)" in found
    nothing = text_of(await run(bot, "/history zebra"))
    assert "No paper in this group matches" in nothing


async def test_unknown_command_points_to_help(bot: Bot) -> None:
    [reply] = await run(bot, "/frobnicate now")
    assert reply.private and "/help" in to_plain(reply)
    [help_reply] = await run(bot, "/help")
    listed = to_plain(help_reply)
    for name in bot.router.commands:
        assert f"/{name}" in listed


async def test_arxiv_outage_keeps_the_proposal_and_completes_it_later(
    bot: Bot,
    fake_arxiv: FakeArxiv,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """arXiv answers 503 until it recovers: the user is told, retries while it
    is down change nothing, the paper is filled in after arXiv recovers, the
    card is posted, and no traceback reaches anyone."""
    clock = ManualClock(bot.clock.now())
    bot.clock = clock
    bot.arxiv = ArxivClient(api_url=fake_arxiv.url, min_interval=0.05, backoff=0.05, attempts=2)
    messenger = NullMessenger()
    bot.messenger = messenger
    monkeypatch.setattr(fetch, "ARXIV_WAIT_SECONDS", 3.0)
    fake_arxiv.fail(503)  # until reset
    caplog.set_level(logging.WARNING)
    [told] = await run(bot, "/propose 1605.08386 worth it")
    assert told.private and "Saved your proposal" in to_plain(told)
    queued = text_of(await run(bot, "/queue"))
    assert "arXiv:1605.08386" in queued  # kept, under its id until arXiv answers
    assert "authors once arXiv answers" in queued and "unknown authors" not in queued
    for _ in range(3):  # due retries while arXiv is still down
        clock.advance(timedelta(minutes=20))
        assert await retry_once(bot) == 0
    assert not messenger.sent
    asked = len(fake_arxiv.requests)
    assert asked >= 2 * 4, "the retries did not ask arXiv again"  # the first try and 3 more
    fake_arxiv.reset()
    started = time.monotonic()
    while time.monotonic() - started < 30 and not messenger.sent:
        clock.advance(timedelta(minutes=20))  # past any back-off
        await retry_once(bot)
        await asyncio.sleep(0.5)
    assert messenger.sent, "the card was never posted after arXiv recovered"
    channel, card = messenger.sent[0]
    assert channel == "general" and TITLE in to_plain(card) and "worth it" in to_plain(card)
    assert TITLE in text_of(await run(bot, "/queue"))
    await retry_once(bot)
    assert len(messenger.sent) == 1  # posted once
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"


async def test_twenty_proposals_of_five_papers_make_few_spaced_requests(
    bot: Bot, fake_arxiv: FakeArxiv
) -> None:
    """20 proposals of 5 papers in three waves, each sent once the previous
    wave's request has reached arXiv: at most one request per paper, and every
    request starts at least the interval after the one before (the gate holds
    each wave back). The spacing is checked exactly on the client's recorded
    start times, and at the fake only to within loopback jitter (the gate counts
    start to start, so arrivals may be a few ms closer; see LOOPBACK_JITTER).
    arXiv's 3 s is the default, checked in test_arxiv_client; 0.5 s here keeps
    the test short."""
    interval = 0.5
    bot.arxiv = ArxivClient(api_url=fake_arxiv.url, min_interval=interval)
    ids = ["1605.08386", "1707.08567", "2104.12255v1", "hep-ex/0406020v1", "quant-ph/0201082v1"]
    waves = [(ids[0:2], 8), (ids[2:4], 8), (ids[4:5], 4)]
    users = iter(f"user{i}" for i in range(20))
    proposals: list[asyncio.Future[list[Reply]]] = []
    for n, (wave, count) in enumerate(waves):
        # Once the previous wave's request is under way (the fake has no event for it).
        while len(fake_arxiv.requests) < n:  # noqa: ASYNC110
            await asyncio.sleep(0.005)
        proposals += [
            asyncio.ensure_future(run(bot, f"/propose {wave[i % len(wave)]}", user=next(users)))
            for i in range(count)
        ]
    replies = await asyncio.gather(*proposals)
    cards = [r for rs in replies for r in rs if not r.private]
    assert len(cards) == 5
    log = bot.arxiv.request_log
    asked = [i for _, batch in log for i in batch]
    assert sorted(asked) == sorted(i.removesuffix("v1") for i in ids), log  # each paper once
    assert len(log) >= 3, log  # a wave cannot ride in a request sent before it came
    starts = [t for t, _ in log]
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert all(g >= interval for g in gaps), gaps
    arrivals = [r.time for r in fake_arxiv.requests]
    seen = [b - a for a, b in itertools.pairwise(arrivals)]
    assert all(g >= interval - LOOPBACK_JITTER for g in seen), seen
    queue = text_of(await run(bot, "/queue"))
    assert "4 votes" in queue


async def test_the_papers_of_one_arxiv_answer_are_stored_in_one_statement(
    bot: Bot, fake_arxiv: FakeArxiv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Five new papers in one /propose ride in one arXiv request, and the
    five are filled in by one call (one transaction), not one each: the last
    card of a big batch waits for no queue of per-paper transactions."""
    from bot.papers import proposals

    calls: list[int] = []
    many = proposals.apply_metadata_many

    def counted(**kwargs):  # type: ignore[no-untyped-def]
        calls.append(len(kwargs["filled"]))
        return many(**kwargs)

    monkeypatch.setattr(proposals, "apply_metadata_many", counted)
    monkeypatch.setattr(proposals, "apply_metadata", None)  # never one by one
    ids = ["1605.08386", "1707.08567", "2104.12255", "hep-ex/0406020", "quant-ph/0201082"]
    replies = await run(bot, "/propose " + " ".join(ids))
    assert len(bot.arxiv.request_log) == 1
    assert calls == [5]
    assert len([r for r in replies if not r.private]) == 5
    assert TITLE in text_of(await run(bot, "/queue"))
