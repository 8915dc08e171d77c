"""The same adapter over Socket Mode: a fake websocket server delivers
envelopes the way Slack does and checks each acknowledgment."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from urllib.parse import parse_qsl

import pytest

from adapters.slack.app import SlackAdapter, build_slack_app
from adapters.slack.client import make_web_client
from adapters.slack.serve import start_socket_mode
from bot.app import Bot
from bot.chat.events import Event
from bot.chat.router import Ctx
from bot.infra.settings import Settings
from tests.adapters.slack.conftest import command_body, fixture
from tests.fakes.slack_api import Call, FakeSlack


@pytest.fixture
async def socket_adapter(
    bot: Bot, slack_settings: Settings, fake_slack: FakeSlack
) -> AsyncIterator[SlackAdapter]:
    adapter = build_slack_app(bot, make_web_client(slack_settings), signing_secret=None)
    handler = start_socket_mode(adapter, "xapp-test-token")
    await handler.connect_async()
    await fake_slack.socket.connected()
    yield adapter
    await bot.drain(5.0)
    await handler.close_async()


def _cards(calls: list[Call]) -> list[Call]:
    return [
        c
        for c in calls
        if c.method == "chat.postMessage" and any(b["type"] == "actions" for b in c.blocks)
    ]


async def test_propose_over_socket_mode_is_acked_in_time_and_the_card_follows(
    socket_adapter: SlackAdapter, fake_slack: FakeSlack, fake_arxiv
) -> None:  # type: ignore[no-untyped-def]
    (opened,) = fake_slack.calls_to("apps.connections.open")
    assert opened.headers["Authorization"] == "Bearer xapp-test-token"
    fake_arxiv.delay(3.2)  # past Slack's 3 s: an ack that waited for arXiv would be late
    form = dict(
        parse_qsl(
            command_body("propose", "1605.08386 sockets!", response_url=fake_slack.response_url())
        )
    )
    envelope = await fake_slack.socket.send("slash_commands", form)
    seconds, ack = await fake_slack.socket.ack(envelope)
    assert ack["envelope_id"] == envelope
    assert seconds < 3.0
    print(f"socket ack latency with a 3.2 s arXiv: {seconds * 1000:.1f} ms")
    (card,) = await fake_slack.wait_for(_cards, within=15)
    assert "Heat-bath random walks with Markov bases" in card.args["text"]
    assert "sockets!" in card.blocks[-2]["text"]["text"]


async def test_events_and_interactive_envelopes_are_acked_and_retries_ignored(
    socket_adapter: SlackAdapter, fake_slack: FakeSlack
) -> None:
    seen: list[Event] = []

    async def record(ctx: Ctx) -> None:
        seen.append(ctx.event)

    socket_adapter.bot.router.thread_message(record)
    body = fixture("bolt_python_tests/event_callback_message_in_thread.json")
    for attempt in range(3):
        envelope = await fake_slack.socket.send("events_api", body, retry_attempt=attempt)
        await fake_slack.socket.ack(envelope)
    await socket_adapter.bot.drain(2.0)
    assert len(seen) == 1

    press = copy.deepcopy(fixture("bolt_python_tests/block_actions_payload.json"))
    press["actions"][0].update(action_id="upvote:999999", value="999999")
    press["response_url"] = fake_slack.response_url("press")
    envelope = await fake_slack.socket.send("interactive", press)
    seconds, _ = await fake_slack.socket.ack(envelope)
    assert seconds < 3.0
    (answer,) = await fake_slack.wait_calls("response_url")
    assert answer.args["response_type"] == "ephemeral"
    assert "no longer exists" in answer.args["text"]


async def test_malformed_socket_mode_payloads_are_acked_and_ignored_with_one_log_line(
    socket_adapter: SlackAdapter, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    """Socket Mode has no HTTP status to refuse with: the envelope is
    acknowledged, the translator drops it (one log line), nothing is stored."""
    import logging

    from sqlmodel import func, select

    from storage.groups.tables import Group, Member

    caplog.set_level(logging.WARNING)
    form = dict(parse_qsl(command_body("propose", "1605.08386", response_url="http://x/")))
    del form["channel_id"]
    button = {
        "type": "block_actions",
        "user": {"id": "UALICE", "team_id": "T111"},
        "actions": [{}],
        "container": {"channel_id": "C111"},
    }
    for kind, payload in (("slash_commands", form), ("interactive", button)):
        envelope = await fake_slack.socket.send(kind, payload)
        await fake_slack.socket.ack(envelope)
    await socket_adapter.bot.drain(2.0)
    assert not [r for r in caplog.records if r.exc_info]
    ignored = [r.getMessage() for r in caplog.records if "ignoring a malformed" in r.getMessage()]
    assert len(ignored) == 2, ignored

    def count(*, session):  # type: ignore[no-untyped-def]
        return [session.exec(select(func.count()).select_from(t)).one() for t in (Group, Member)]

    assert await socket_adapter.bot.db(count) == [0, 0]
    assert not fake_slack.calls_to("chat.postMessage")


async def test_a_socket_mode_command_is_stored_and_acked_before_bolt_dispatches(
    socket_adapter: SlackAdapter, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over Socket Mode too, a slash command is stored in the inbox and
    acknowledged (an empty ack, as Bolt's) without Bolt's dispatch; its
    handler answers after. The same envelope again does nothing."""

    async def no_dispatch(*_args: object, **_kwargs: object) -> object:
        raise AssertionError("a slash command went through Bolt's dispatch")

    monkeypatch.setattr(socket_adapter.app, "async_dispatch", no_dispatch)
    form = dict(parse_qsl(command_body("queue", "", response_url=fake_slack.response_url("q"))))
    for _ in range(2):
        envelope = await fake_slack.socket.send("slash_commands", form)
        _, ack = await fake_slack.socket.ack(envelope)
        assert ack.get("payload") in (None, {})
    await fake_slack.wait_calls("chat.postMessage")  # the queue, answered
    await socket_adapter.bot.drain(2.0)
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    assert socket_adapter.stats.duplicates == 1
