"""Fixtures for the Slack adapter: the fake Slack Web API (with a Socket Mode
server), and the real adapter served over HTTP on loopback, driven with
requests signed exactly as Slack signs them."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from pydantic import SecretStr

from adapters.slack.app import SlackAdapter, build_slack_app
from adapters.slack.client import make_web_client
from adapters.slack.serve import EVENTS_PATH, start_http
from bot.app import Bot
from bot.infra.settings import Settings
from tests.fakes.slack_api import FakeSlack, spec_problems
from tests.fakes.slack_socket import SocketModeServer
from tests.fixtures import ROOT as FIXTURES_ROOT

FIXTURES = FIXTURES_ROOT / "slack"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TEAM = "T111"
CHANNEL = "C111"
ADMIN = "UADMIN"
_TRIGGERS = itertools.count(1000)


def fixture(name: str) -> dict[str, Any]:
    """A real Slack payload from tests/fixtures/slack (never edited)."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def sign(body: str, *, secret: str = SECRET, ts: int | None = None) -> dict[str, str]:
    """Headers exactly as Slack sends them: v0 HMAC-SHA256 of ``v0:{ts}:{body}``."""
    ts = int(time.time()) if ts is None else ts
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": f"v0={digest}"}


def command_body(
    name: str, text: str, *, user: str = "UALICE", response_url: str, channel: str = CHANNEL
) -> str:
    """A slash command form body shaped like the recorded one
    (bolt_python_tests/slash_command_form_body.json), with our command."""
    fields = dict(fixture("bolt_python_tests/slash_command_form_body.json")["form_fields_decoded"])
    fields.update(
        command=f"/{name}",
        text=text,
        user_id=user,
        user_name=user.lower(),
        team_id=TEAM,
        channel_id=channel,
        response_url=response_url,
        # Slack gives every invocation its own trigger_id (so two identical
        # commands in one second are two requests, not a replay).
        trigger_id=f"{next(_TRIGGERS)}.{TEAM}.{uuid.uuid4().hex}",
    )
    return urlencode(fields)


@dataclass
class SlackHarness:
    adapter: SlackAdapter
    fake: FakeSlack
    url: str
    http: aiohttp.ClientSession

    @property
    def bot(self) -> Bot:
        return self.adapter.bot

    async def post(
        self, body: str, *, headers: dict[str, str] | None = None, form: bool = True
    ) -> tuple[int, str, float]:
        """POST to /slack/events; returns (status, body, seconds)."""
        ctype = "application/x-www-form-urlencoded" if form else "application/json"
        hdrs = {"Content-Type": ctype, **(sign(body) if headers is None else headers)}
        start = time.monotonic()
        async with self.http.post(self.url, data=body.encode(), headers=hdrs) as resp:
            text = await resp.text()
            return resp.status, text, time.monotonic() - start

    async def command(
        self, name: str, text: str = "", *, user: str = "UALICE"
    ) -> tuple[int, float]:
        status, _, seconds = await self.post(
            command_body(name, text, user=user, response_url=self.fake.response_url(name))
        )
        return status, seconds

    async def event(self, body: dict[str, Any], *, retry: int | None = None) -> int:
        raw = json.dumps(body)
        headers = sign(raw)
        if retry is not None:
            headers.update({"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "timeout"})
        status, _, _ = await self.post(raw, headers=headers, form=False)
        return status

    async def interactive(self, payload: dict[str, Any]) -> int:
        status, _, _ = await self.post(urlencode({"payload": json.dumps(payload)}))
        return status


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack(team_id=TEAM, admins={ADMIN})
    SocketModeServer(fake)
    async with fake:
        yield fake
    problems = spec_problems(fake.calls)
    assert not problems, f"Web API calls that break Slack's OpenAPI spec: {problems}"


@pytest.fixture
def slack_settings(settings: Settings, fake_slack: FakeSlack) -> Settings:
    return settings.model_copy(
        update={
            "slack_api_url": fake_slack.url,
            "slack_bot_token": SecretStr("xoxb-test-token"),
            "slack_signing_secret": SecretStr(SECRET),
            "slack_app_token": SecretStr("xapp-test-token"),
        }
    )


@pytest.fixture
async def slack(
    bot: Bot, slack_settings: Settings, fake_slack: FakeSlack
) -> AsyncIterator[SlackHarness]:
    """The adapter over real HTTP on 127.0.0.1, with the fake Slack API."""
    bot.settings = slack_settings
    adapter = build_slack_app(bot, make_web_client(slack_settings), signing_secret=SECRET)
    runner, port = await start_http(adapter, host="127.0.0.1", port=0)
    async with aiohttp.ClientSession() as http:
        yield SlackHarness(adapter, fake_slack, f"http://127.0.0.1:{port}{EVENTS_PATH}", http)
    await bot.drain(5.0)
    await runner.cleanup()
