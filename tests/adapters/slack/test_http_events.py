"""Events API over real HTTP: thread messages and reactions reach the core,
the bot's own messages do not, url_verification is answered, and a retried
delivery has no second effect."""

from __future__ import annotations

import copy
import json

from bot.chat.events import Event, Reaction, ThreadMessage
from bot.chat.router import Ctx
from tests.adapters.slack.conftest import SlackHarness, fixture
from tests.fakes.slack_api import FakeSlack


def _collect(slack: SlackHarness) -> list[Event]:
    """A thread and a reaction handler registered on the real router."""
    seen: list[Event] = []

    async def record(ctx: Ctx) -> None:
        seen.append(ctx.event)

    slack.bot.router.thread_message(record)
    slack.bot.router.reaction(record)
    return seen


async def test_url_verification_is_answered_with_the_challenge(slack: SlackHarness) -> None:
    body = fixture("bolt_python_tests/url_verification.json")
    status, text, _ = await slack.post(json.dumps(body), form=False)
    assert status == 200
    assert json.loads(text)["challenge"] == body["challenge"]


async def test_a_thread_message_delivered_three_times_reaches_the_core_once(
    slack: SlackHarness,
) -> None:
    seen = _collect(slack)
    body = fixture("bolt_python_tests/event_callback_message_in_thread.json")
    assert await slack.event(body) == 200
    assert await slack.event(body, retry=1) == 200
    assert await slack.event(body, retry=2) == 200
    await slack.bot.drain(2.0)
    assert len(seen) == 1
    (msg,) = seen
    assert isinstance(msg, ThreadMessage)
    assert msg.text == "When Slack was released?"
    assert msg.place.thread == "1726133698.626339" and msg.place.message == "1726133700.887259"
    assert msg.actor.user_id == "W222" and msg.place.workspace == "T111"
    assert slack.adapter.stats.duplicates == 2
    # A different event id is a different event.
    other = copy.deepcopy(body)
    other["event_id"] = "Ev222"
    other["event"]["ts"] = "1726133701.000000"
    await slack.event(other)
    await slack.bot.drain(2.0)
    assert len(seen) == 2


async def test_reaction_added_and_removed_reach_the_core_once_each(slack: SlackHarness) -> None:
    seen = _collect(slack)
    added = fixture("bolt_python_tests/event_callback_reaction_added.json")
    for retry in (None, 1, 2):
        await slack.event(added, retry=retry)
    removed = copy.deepcopy(added)
    removed["event_id"] = "Ev112"
    removed["event"]["type"] = "reaction_removed"
    await slack.event(removed)
    await slack.bot.drain(2.0)
    assert [(type(e), e.added) for e in seen] == [(Reaction, True), (Reaction, False)]  # type: ignore[union-attr]
    r = seen[0]
    assert isinstance(r, Reaction)
    assert r.emoji == "😍" and r.place.message == "1599529504.000400"
    assert r.place.channel == "C111"


async def test_the_bots_own_and_non_thread_messages_are_ignored(
    slack: SlackHarness, fake_slack: FakeSlack
) -> None:
    seen = _collect(slack)
    thread = fixture("bolt_python_tests/event_callback_message_in_thread.json")
    own = copy.deepcopy(thread)
    own["event_id"] = "EvOwn"
    own["event"]["user"] = fake_slack.bot_user_id
    bot_message = fixture("opsdroid_captured/events_api/payload_message_bot_message.json")
    top_level = fixture("opsdroid_captured/events_api/payload_message.json")
    edited = fixture("opsdroid_captured/events_api/payload_message_message_changed.json")
    for body in (own, bot_message, top_level, edited):
        assert await slack.event(body) == 200
    await slack.bot.drain(2.0)
    assert seen == []
    # …while a broadcast thread reply is a person talking in the thread.
    await slack.event(fixture("bolt_python_tests/event_callback_message_thread_broadcast.json"))
    await slack.bot.drain(2.0)
    assert [e.text for e in seen] == ["Hi there!"]  # type: ignore[union-attr]


async def test_untrusted_thread_text_is_decoded_to_plain_text(slack: SlackHarness) -> None:
    seen = _collect(slack)
    body = fixture("bolt_python_tests/event_callback_message_in_thread.json")
    body = copy.deepcopy(body)
    body["event"]["text"] = "see <https://x.org/p|the paper> &amp; ping <!channel> <@W999>"
    await slack.event(body)
    await slack.bot.drain(2.0)
    assert [e.text for e in seen] == [  # type: ignore[union-attr]
        "see the paper (https://x.org/p) & ping @channel @W999"
    ]


async def test_events_the_core_ignores_are_still_acknowledged_with_200(
    slack: SlackHarness,
) -> None:
    seen = _collect(slack)
    for name in (
        "payload_channel_created",
        "payload_channel_rename",
        "payload_pin_added",
        "payload_team_join",
        "payload_message_channel_join",
    ):
        assert await slack.event(fixture(f"opsdroid_captured/events_api/{name}.json")) == 200
    await slack.bot.drain(1.0)
    assert seen == []
