"""The Slack inbox over real signed HTTP: a replayed request changes nothing,
and a request accepted by a process that then died is handled and answered
by the next pass (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode

from sqlmodel import func, select

from adapters.slack.app import build_slack_app
from adapters.slack.client import make_web_client
from adapters.slack.inbox import SOURCE, finish_pending
from adapters.slack.serve import EVENTS_PATH, start_http
from bot.app import build_bot
from bot.infra import inbox as inbox_svc
from bot.infra.arxiv_client import ArxivClient
from bot.infra.settings import Settings
from bot.papers.fetch import retry_once
from storage.engine import make_engine
from storage.infra.inbox_tables import InboxItem
from storage.papers.tables import Proposal, Vote
from tests.adapters.slack.conftest import SECRET, SlackHarness, command_body, sign
from tests.adapters.slack.test_http_interactivity import _button, _cards, press

TITLE = "Heat-bath random walks with Markov bases"


async def _count(slack: SlackHarness, table: type) -> int:
    def count(*, session):  # type: ignore[no-untyped-def]
        return session.exec(select(func.count()).select_from(table)).one()

    return int(await slack.bot.db(count))


async def test_a_replayed_signed_upvote_changes_nothing(slack: SlackHarness) -> None:
    await slack.command("propose", "1605.08386")
    (card,) = await slack.fake.wait_for(_cards, within=15)
    payload = press(card, "1700000000.000001", user="UBOB", response_url=slack.fake.response_url())
    body = urlencode({"payload": json.dumps(payload)})
    headers = sign(body)  # one signed request…
    for _attempt in range(3):  # …sent three times within Slack's 5-minute window
        status, _, _ = await slack.post(body, headers=headers)
        assert status == 200
    await slack.fake.wait_calls("chat.update")
    await slack.bot.drain(3.0)
    assert len(slack.fake.calls_to("chat.update")) == 1
    assert await _count(slack, Vote) == 2  # alice's and bob's, not toggled back
    assert slack.adapter.stats.duplicates == 2


async def test_a_replayed_signed_command_is_handled_once(slack: SlackHarness) -> None:
    body = command_body("propose", "1605.08386", response_url=slack.fake.response_url())
    headers = sign(body)
    for _attempt in range(2):
        status, _, _ = await slack.post(body, headers=headers)
        assert status == 200
    await slack.fake.wait_for(_cards, within=15)
    await slack.bot.drain(3.0)
    assert len(_cards(slack.fake.calls)) == 1
    assert not slack.fake.calls_to("response_url")  # no "already proposed" answer
    assert await _count(slack, Proposal) == 1


async def test_a_request_accepted_before_a_crash_is_handled_and_answered(
    slack: SlackHarness,
) -> None:
    bot = slack.bot
    # What a killed process left: the command stored (and acknowledged), its
    # lease run out, nothing handled.
    body = dict(
        parse_qsl(
            command_body("propose", "1605.08386 kept", response_url=slack.fake.response_url("late"))
        )
    )
    past = bot.clock.now() - 2 * bot.lease - timedelta(seconds=1)
    await bot.db(
        inbox_svc.accept,
        key="slack:req:dead",
        source=SOURCE,
        kind="command",
        payload={"body": body, "bot_user_id": "UBOT"},
        now=past,
        lease=bot.lease,
    )
    assert await finish_pending(slack.adapter) == 1
    (card,) = await slack.fake.wait_for(_cards, within=15)
    assert TITLE in json.dumps(card.blocks) and "kept" in json.dumps(card.blocks)
    assert _button(card.blocks)["text"]["text"] == "▲ Upvote (1)"
    await bot.drain(3.0)
    assert await finish_pending(slack.adapter) == 0  # done: never handled again

    def status(*, session):  # type: ignore[no-untyped-def]
        return session.exec(select(InboxItem.status)).all()

    assert await bot.db(status) == ["done"]
    # The card counts as posted: the retry pass does not post it again.
    bot.clock = _Later(bot.clock, bot.lease * 3)
    await retry_once(bot)
    assert len(_cards(slack.fake.calls)) == 1


class _Later:
    def __init__(self, clock, delta) -> None:  # type: ignore[no-untyped-def]
        self.clock, self.delta = clock, delta

    def now(self):  # type: ignore[no-untyped-def]
        return self.clock.now() + self.delta


async def test_a_replay_sent_to_another_replica_changes_nothing(
    slack: SlackHarness, slack_settings: Settings, fake_arxiv: object
) -> None:
    """Two replicas on one database: the replay's key is in the database, not
    in either process's memory."""
    engine = make_engine(slack_settings.database_url)
    other = build_bot(
        slack_settings,
        engine=engine,
        arxiv=ArxivClient(api_url=slack_settings.arxiv_api_url, min_interval=0.05),
        migrate=False,
    )
    adapter = build_slack_app(other, make_web_client(slack_settings), signing_secret=SECRET)
    runner, port = await start_http(adapter, host="127.0.0.1", port=0)
    try:
        await slack.command("propose", "1605.08386")
        (card,) = await slack.fake.wait_for(_cards, within=15)
        payload = press(
            card, "1700000000.000001", user="UBOB", response_url=slack.fake.response_url()
        )
        body = urlencode({"payload": json.dumps(payload)})
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
        for url in (slack.url, f"http://127.0.0.1:{port}{EVENTS_PATH}") * 2:
            async with slack.http.post(url, data=body.encode(), headers=headers) as resp:
                assert resp.status == 200
        await slack.fake.wait_calls("chat.update")
        await slack.bot.drain(3.0)
        await other.drain(3.0)
        assert len(slack.fake.calls_to("chat.update")) == 1
        assert await _count(slack, Vote) == 2
    finally:
        await runner.cleanup()
        await other.aclose()
        engine.dispose()
