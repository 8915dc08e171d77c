"""SlackMessenger against the fake Web API: posts, DMs, threads, 429s with
Retry-After honoured (nothing lost), and refusals raised as DeliveryError."""

from __future__ import annotations

import itertools
import time

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.client import make_web_client
from adapters.slack.messenger import SlackMessenger
from bot.chat.events import Place
from bot.chat.messenger import DeliveryError
from bot.chat.replies import Header, Reply, Text, say
from bot.infra.settings import Settings
from tests.fakes.slack_api import FakeSlack

PLACE = Place("slack", "T111", "C111")


@pytest.fixture
def client(fake_slack: FakeSlack) -> AsyncWebClient:
    return make_web_client(
        Settings(
            SLACK_API_URL=fake_slack.url,
            SLACK_BOT_TOKEN="xoxb-test",
            _env_file=None,  # type: ignore[call-arg]
        )
    )


async def test_post_returns_the_ts_and_threads_use_thread_ts(
    client: AsyncWebClient, fake_slack: FakeSlack
) -> None:
    messenger = SlackMessenger(client)
    ts = await messenger.post(PLACE, say("hello **all**"))
    assert ts == "1700000000.000001"
    thread = await messenger.open_thread(PLACE, ts, "Discussion")
    assert thread == ts
    await messenger.post(Place("slack", "T111", "C111", thread=thread), say("in the thread"))
    first, second = fake_slack.calls_to("chat.postMessage")
    assert first.args["blocks"][0]["text"]["text"] == "hello *all*"
    assert "thread_ts" not in first.args
    assert second.args["thread_ts"] == ts
    assert first.headers["Authorization"] == "Bearer xoxb-test"


async def test_direct_opens_a_dm_then_posts(client: AsyncWebClient, fake_slack: FakeSlack) -> None:
    await SlackMessenger(client).direct("slack", "T111", "UBOB", say("your turn"))
    (opened,) = fake_slack.calls_to("conversations.open")
    assert opened.args["users"] == "UBOB"
    (posted,) = fake_slack.calls_to("chat.postMessage")
    assert posted.args["channel"] == "DUBOB"


async def test_rate_limited_posts_wait_for_retry_after_and_are_not_lost(
    client: AsyncWebClient, fake_slack: FakeSlack
) -> None:
    fake_slack.ratelimit("chat.postMessage", count=2, retry_after=1)
    start = time.monotonic()
    ts = await SlackMessenger(client).post(PLACE, say("survives a 429"))
    elapsed = time.monotonic() - start
    attempts = fake_slack.calls_to("chat.postMessage")
    assert len(attempts) == 3 and ts is not None
    assert elapsed >= 2.0, "Retry-After: 1 twice must be honoured"
    gaps = [b.at - a.at for a, b in itertools.pairwise(attempts)]
    assert all(g >= 0.9 for g in gaps), gaps


@pytest.mark.parametrize("code", ["channel_not_found", "invalid_auth", "not_in_channel"])
async def test_refusals_raise_delivery_error_so_callers_retry(
    client: AsyncWebClient, fake_slack: FakeSlack, code: str, caplog: pytest.LogCaptureFixture
) -> None:
    fake_slack.fail("chat.postMessage", code)
    with pytest.raises(DeliveryError, match=code):
        await SlackMessenger(client).post(PLACE, say("x"))
    assert code in caplog.text
    # The next attempt goes through.
    assert await SlackMessenger(client).post(PLACE, say("x"))


async def test_rate_limited_past_the_retries_is_a_delivery_error(
    client: AsyncWebClient, fake_slack: FakeSlack
) -> None:
    fake_slack.ratelimit("chat.postMessage", count=100, retry_after=0)
    with pytest.raises(DeliveryError, match="ratelimited"):
        await SlackMessenger(client).post(PLACE, say("x"))


async def test_a_long_form_post_goes_out_as_several_valid_messages(
    client: AsyncWebClient, fake_slack: FakeSlack
) -> None:
    paragraphs = [f"Paragraph {i}: " + "word " * 200 for i in range(60)]
    reply = Reply(blocks=(Header("This Week in ML"), Text("\n\n".join(paragraphs))), long_form=True)
    ts = await SlackMessenger(client).post(PLACE, reply)
    posts = fake_slack.calls_to("chat.postMessage")
    assert ts == "1700000000.000001" and len(posts) > 1
    for post in posts:
        assert len(post.blocks) <= 50 and post.args["text"].strip()
        assert all(len(b["text"]["text"]) <= 3000 for b in post.blocks if b["type"] == "section")
