"""The reported case over real HTTP: a member in C111 presses the upvote of a
card of C222 (or in a direct message); the answer is private, no message is
replaced and the vote is not counted. Also: the translators mark direct
messages, and users.info's team is where the admin flag holds."""

from __future__ import annotations

from unittest.mock import AsyncMock, create_autospec

from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import select

from adapters.slack import inbound
from adapters.slack.users import UserDirectory
from bot.chat.events import Actor, Command, Place
from storage.papers.tables import Vote
from tests.adapters.slack.conftest import CHANNEL, SlackHarness, command_body
from tests.adapters.slack.test_http_interactivity import _button, _cards, press

OTHER = "C222"
WRONG_PLACE = "belongs to another channel's reading group"


async def _votes(slack: SlackHarness) -> int:
    def count(*, session):  # type: ignore[no-untyped-def]
        return len(session.exec(select(Vote)).all())

    return await slack.bot.db(count)


async def test_an_upvote_pressed_in_another_channel_changes_nothing(slack: SlackHarness) -> None:
    await slack.post(
        command_body("propose", "1605.08386", channel=OTHER, response_url=slack.fake.response_url())
    )
    (card,) = await slack.fake.wait_for(_cards, within=15)
    assert card.args["channel"] == OTHER
    for channel, name in ((CHANNEL, "C111"), ("D0BOB", "dm")):
        url = slack.fake.response_url(name)
        payload = press(card, "1700000000.000001", user="UBOB", response_url=url)
        payload["channel"] = {"id": channel, "name": "directmessage" if name == "dm" else name}
        payload["container"]["channel_id"] = channel
        assert await slack.interactive(payload) == 200
    answers = await slack.fake.wait_calls("response_url", 2)
    for answer in answers:
        assert WRONG_PLACE in answer.args["text"]
        assert answer.args.get("replace_original") is not True
    assert not slack.fake.calls_to("chat.update")
    assert await _votes(slack) == 1  # only the proposer's own
    # In its own channel the same press counts.
    own = press(card, "1700000000.000001", user="UBOB", response_url=slack.fake.response_url())
    await slack.interactive(own)
    (update,) = await slack.fake.wait_calls("chat.update")
    assert update.args["channel"] == OTHER
    assert _button(update.blocks)["text"]["text"] == "▲ Upvote (2)"


def test_direct_messages_are_marked_on_buttons_and_forms() -> None:
    body = {
        "type": "block_actions",
        "team": {"id": "T1"},
        "user": {"id": "U1", "team_id": "T1"},
        "channel": {"id": "D123", "name": "directmessage"},
        "actions": [{"action_id": "present_pick", "value": "7"}],
    }
    action = inbound.block_action(body)
    assert action is not None and action.place.direct
    body["channel"] = {"id": "C123", "name": "general"}
    action = inbound.block_action(body)
    assert action is not None and not action.place.direct
    form = inbound.view_submission(
        {
            "type": "view_submission",
            "team": {"id": "T1"},
            "user": {"id": "U1"},
            "view": {
                "callback_id": "digest_edit_save",
                "private_metadata": '{"channel": "D9"}',
                "state": {"values": {}},
            },
        }
    )
    assert form is not None and form.place.direct


async def test_the_admin_flag_holds_in_the_users_own_team() -> None:
    client = create_autospec(AsyncWebClient, instance=True)
    client.users_info = AsyncMock(
        return_value={"user": {"id": "UADMIN", "is_admin": True, "team_id": "T0001"}}
    )
    users = UserDirectory(client)
    event = Command("queue", "", Actor("slack", "UADMIN"), Place("slack", "T0002", "C1"))
    enriched = await users.enrich(event)
    assert isinstance(enriched, Command)
    assert enriched.actor.is_admin and enriched.actor.workspace == "T0001"
