"""The acknowledgment of a command: stored first, then answered at once, not
after Bolt's 10 ms poll for a listener running in another task."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest
from sqlmodel import Session, select

from storage.infra.inbox_tables import InboxItem
from tests.adapters.slack.conftest import SlackHarness, command_body, sign


async def test_a_command_is_stored_and_acknowledged_without_bolts_ack_poll(
    slack: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Bolt's runner with process_before_response=False starts the listener in
    # a task and polls `while ack.response is None: await asyncio.sleep(0.01)`.
    polls: list[float] = []
    real_sleep = asyncio.sleep

    async def spy(delay: float, *args: Any, **kwargs: Any) -> Any:
        if sys._getframe(1).f_code.co_filename.endswith("asyncio_runner.py"):
            polls.append(delay)
        return await real_sleep(delay, *args, **kwargs)

    monkeypatch.setattr(asyncio, "sleep", spy)
    status, _ = await slack.command("queue")
    assert status == 200
    with Session(slack.bot.engine) as s:
        stored = s.exec(select(InboxItem).where(InboxItem.kind == "command")).all()
    assert len(stored) == 1  # in the database when Slack got its 200
    assert polls == []


async def test_a_command_is_stored_and_acknowledged_before_bolt_dispatches_anything(
    slack: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slash command goes from the signature check and the inbox write
    straight to its 200 (empty, as Bolt's ``ack()``), then to its handler:
    Bolt's dispatch is not on its way. A replay of the same signed request
    is acknowledged and does nothing."""

    async def no_dispatch(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("a slash command went through Bolt's dispatch")

    monkeypatch.setattr(slack.adapter.app, "async_dispatch", no_dispatch)
    body = command_body("queue", "", response_url=slack.fake.response_url("queue"))
    headers = sign(body)
    status, text, _ = await slack.post(body, headers=headers)
    assert (status, text) == (200, "")
    with Session(slack.bot.engine) as s:
        stored = s.exec(select(InboxItem).where(InboxItem.kind == "command")).all()
    assert len(stored) == 1
    await slack.fake.wait_calls("chat.postMessage")  # the queue, answered
    status, text, _ = await slack.post(body, headers=headers)
    assert (status, text) == (200, "")
    await slack.bot.drain(2.0)
    assert len(slack.fake.calls_to("chat.postMessage")) == 1
    assert slack.adapter.stats.duplicates == 1


async def test_a_propose_is_announced_to_arxiv_before_its_acknowledgment(
    slack: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When Slack gets its 200 for a /propose, the arXiv client already knows
    a look-up is coming (bot.app.expect_lookups), so a request about to start
    waits for it instead of leaving without its paper."""
    announced: list[object] = []
    monkeypatch.setattr(slack.bot.arxiv, "expect", announced.append)
    monkeypatch.setattr(slack.bot.arxiv, "expected_done", lambda _key: None)
    status, _ = await slack.command("propose", "1605.08386")
    assert status == 200
    assert len(announced) == 1
