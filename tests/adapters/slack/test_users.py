"""users.info look-ups: cached, and shared by handlers that ask together."""

from __future__ import annotations

import asyncio

from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.users import UserDirectory
from tests.fakes.slack_api import FakeSlack


async def test_lookups_of_one_user_at_the_same_time_ask_slack_once(fake_slack: FakeSlack) -> None:
    users = UserDirectory(AsyncWebClient(token="xoxb-test-token", base_url=fake_slack.url))
    infos = await asyncio.gather(*(users.lookup("UALICE") for _ in range(5)), users.lookup("UBOB"))
    assert len({info for info in infos[:5]}) == 1
    assert infos[0] is not None and infos[5] is not None
    assert sorted(c.args["user"] for c in fake_slack.calls_to("users.info")) == ["UALICE", "UBOB"]
    await users.lookup("UALICE")  # cached now
    assert len(fake_slack.calls_to("users.info")) == 2
