"""Buttons and modals over real HTTP: the upvote button updates the card in
place, a form opens a modal with the action's trigger_id and its submission
reaches the core as an Action with fields; organizer rights from users.info."""

from __future__ import annotations

import copy
import json
from typing import Any
from urllib.parse import urlencode

from bot.chat.events import Action, Command, Event
from bot.chat.replies import Form, FormField, Reply, Text, say
from bot.chat.router import Ctx
from tests.adapters.slack.conftest import ADMIN, CHANNEL, TEAM, SlackHarness, fixture
from tests.fakes.slack_api import Call


def _cards(calls: list[Call]) -> list[Call]:
    return [
        c
        for c in calls
        if c.method == "chat.postMessage" and any(b["type"] == "actions" for b in c.blocks)
    ]


def _button(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    (actions,) = [b for b in blocks if b["type"] == "actions"]
    return actions["elements"][0]


def press(
    card: Call, ts: str, *, user: str, response_url: str, ephemeral: bool = False
) -> dict[str, Any]:
    """A block_actions payload shaped like the captured one
    (opsdroid_captured/interactivity/payload_block_action_button.json),
    pressing the first button of a card we posted."""
    payload = copy.deepcopy(
        fixture("opsdroid_captured/interactivity/payload_block_action_button.json")[
            "payload_decoded"
        ]
    )
    button = _button(card.blocks)
    payload["user"] = {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM}
    payload["team"] = {"id": TEAM, "domain": "fake"}
    payload["channel"] = {"id": card.args["channel"], "name": "general"}
    payload["container"] = {
        "type": "message",
        "message_ts": ts,
        "channel_id": card.args["channel"],
        "is_ephemeral": ephemeral,
    }
    payload["message"] = {"type": "message", "ts": ts, "text": card.args["text"]}
    payload["response_url"] = response_url
    payload["actions"] = [
        {
            "action_id": button["action_id"],
            "block_id": "b1",
            "text": button["text"],
            "value": button["value"],
            "type": "button",
            "action_ts": "1700000001.000001",
        }
    ]
    return payload


async def test_upvote_toggles_the_vote_and_updates_the_card_in_place(slack: SlackHarness) -> None:
    await slack.command("propose", "1605.08386")
    (card,) = await slack.fake.wait_for(_cards, within=15)
    assert _button(card.blocks)["text"]["text"] == "▲ Upvote (1)"
    posted_ts = "1700000000.000001"  # the ts the fake gave the card
    payload = press(card, posted_ts, user="UBOB", response_url=slack.fake.response_url("b1"))
    assert await slack.interactive(payload) == 200
    (update,) = await slack.fake.wait_calls("chat.update")
    assert update.args["channel"] == CHANNEL and update.args["ts"] == posted_ts
    assert _button(update.blocks)["text"]["text"] == "▲ Upvote (2)"
    assert update.args["text"]  # fallback present
    # The voter alone is told, through the press's response_url.
    (counted,) = await slack.fake.wait_calls("response_url")
    assert counted.args["response_type"] == "ephemeral"
    assert counted.args["replace_original"] is False
    assert counted.args["text"].startswith("Vote counted: ")
    # Pressing again (a new press: its own action_ts and trigger_id) takes
    # the vote back.
    again = copy.deepcopy(payload)
    again["actions"][0]["action_ts"] = "1700000002.000002"
    again["trigger_id"] = f"{payload.get('trigger_id', 't')}-2"
    assert await slack.interactive(again) == 200
    updates = await slack.fake.wait_calls("chat.update", 2)
    assert _button(updates[1].blocks)["text"]["text"] == "▲ Upvote (1)"
    removed = (await slack.fake.wait_calls("response_url", 2))[1]
    assert removed.args["response_type"] == "ephemeral"
    assert removed.args["text"].startswith("Your vote was removed: ")
    assert len(_cards(slack.fake.calls)) == 1  # updated, never re-posted
    assert not slack.fake.calls_to("chat.postEphemeral")  # nothing else in the channel


async def test_a_button_on_an_ephemeral_message_is_replaced_through_response_url(
    slack: SlackHarness,
) -> None:
    await slack.command("propose", "1605.08386")
    (card,) = await slack.fake.wait_for(_cards, within=15)
    url = slack.fake.response_url("eph")
    payload = press(card, "1700000000.000001", user="UBOB", response_url=url, ephemeral=True)
    await slack.interactive(payload)
    answer = (await slack.fake.wait_calls("response_url"))[0]
    assert answer.args["replace_original"] is True
    assert _button(answer.args["blocks"])["text"]["text"] == "▲ Upvote (2)"
    assert not slack.fake.calls_to("chat.update")


async def test_a_form_opens_a_modal_and_its_submission_reaches_the_core(
    slack: SlackHarness,
) -> None:
    got: list[Event] = []

    async def ask(ctx: Ctx) -> Reply:
        return Reply(
            blocks=(),
            form=Form(
                title="Edit the post",
                action="save_test",
                value="42",
                fields=(FormField("body", "Post text", initial="old", multiline=True),),
            ),
        )

    async def save(ctx: Ctx) -> Reply:
        got.append(ctx.event)
        return say("Saved.", private=True)

    slack.bot.router.action("edit_test")(ask)
    slack.bot.router.action("save_test")(save)
    payload = fixture("bolt_python_tests/block_actions_payload.json")
    payload = copy.deepcopy(payload)
    payload["actions"][0].update(action_id="edit_test:42", value="42")
    payload["container"]["is_ephemeral"] = False
    payload["response_url"] = slack.fake.response_url("edit")
    await slack.interactive(payload)
    (opened,) = await slack.fake.wait_calls("views.open")
    assert opened.args["trigger_id"] == payload["trigger_id"]
    view = opened.args["view"]
    assert view["type"] == "modal" and view["callback_id"] == "save_test"
    assert view["blocks"][0]["element"]["initial_value"] == "old"
    meta = json.loads(view["private_metadata"])
    assert meta == {"value": "42", "channel": "C111", "message": "111.222"}

    submission = copy.deepcopy(fixture("bolt_python_tests/view_submission_payload.json"))
    submission["view"].update(
        callback_id="save_test",
        private_metadata=view["private_metadata"],
        state={"values": {"body": {"body": {"type": "plain_text_input", "value": "new text"}}}},
    )
    status, text, _ = await slack.post(urlencode({"payload": json.dumps(submission)}))
    assert status == 200 and text == ""  # an empty ack closes the modal
    (answer,) = await slack.fake.wait_calls("chat.postEphemeral")
    assert answer.args["channel"] == "C111" and answer.args["user"] == "W111"
    assert answer.args["text"] == "Saved."
    (action,) = got
    assert isinstance(action, Action)
    assert (action.kind, action.value, action.fields) == (
        "save_test",
        "42",
        (("body", "new text"),),
    )
    assert action.place.message == "111.222"


async def test_workspace_admins_are_organizers_and_users_info_is_cached(
    slack: SlackHarness,
) -> None:
    seen: list[Command] = []

    async def whoami(ctx: Ctx) -> None:
        assert isinstance(ctx.event, Command)
        seen.append(ctx.event)

    slack.bot.router.command("whoami", summary="test", example="/whoami")(whoami)
    await slack.command("whoami", user=ADMIN)
    await slack.command("whoami", user=ADMIN)
    await slack.command("whoami", user="UALICE")
    await slack.bot.drain(3.0)
    assert [(c.actor.user_id, c.actor.is_admin) for c in seen] == [
        (ADMIN, True),
        (ADMIN, True),
        ("UALICE", False),
    ]
    assert seen[0].actor.name == "name-uadmin"  # the profile's display name
    looked_up = [c.args["user"] for c in slack.fake.calls_to("users.info")]
    assert looked_up == [ADMIN, "UALICE"]


async def test_a_workspace_admin_may_withdraw_someone_elses_proposal(
    slack: SlackHarness,
) -> None:
    await slack.command("propose", "1605.08386", user="UALICE")
    await slack.fake.wait_for(_cards, within=15)
    await slack.command("withdraw", "1605.08386", user="UBOB")
    # Commands are acknowledged at once and worked on concurrently: Bob's
    # refusal comes before the admin's withdrawal only if it is awaited first.
    await slack.fake.wait_calls("response_url", 1)
    await slack.command("withdraw", "1605.08386", user=ADMIN)
    answers = await slack.fake.wait_calls("response_url", 2)
    texts = sorted(a.args["text"] for a in answers)
    assert any(t.startswith("Only ") for t in texts), texts
    assert any(t.startswith("Withdrew ") for t in texts), texts


async def test_a_private_answer_falls_back_to_chat_post_ephemeral_when_response_url_expired(
    slack: SlackHarness,
) -> None:
    payload = copy.deepcopy(fixture("bolt_python_tests/block_actions_payload.json"))
    payload["actions"][0].update(action_id="upvote:999999", value="999999")
    payload["response_url"] = slack.fake.response_url("expired-1")
    await slack.interactive(payload)
    (answer,) = await slack.fake.wait_calls("chat.postEphemeral")
    assert (answer.args["channel"], answer.args["user"]) == ("C111", "W111")
    assert "no longer exists" in answer.args["text"]


async def test_a_form_from_an_ephemeral_message_answers_a_replace_ephemerally(
    slack: SlackHarness,
) -> None:
    async def ask(ctx: Ctx) -> Reply:
        form = Form("Edit", "save_eph", "7", (FormField("body", "Text"),))
        return Reply(blocks=(), form=form)

    async def save(ctx: Ctx) -> Reply:
        return Reply(blocks=(Text("Draft, revision 2"),), private=True, replace=True)

    slack.bot.router.action("edit_eph")(ask)
    slack.bot.router.action("save_eph")(save)
    payload = copy.deepcopy(fixture("bolt_python_tests/block_actions_payload.json"))
    payload["actions"][0].update(action_id="edit_eph:7", value="7")  # is_ephemeral: true
    payload["response_url"] = slack.fake.response_url("eph")
    await slack.interactive(payload)
    (opened,) = await slack.fake.wait_calls("views.open")
    submission = copy.deepcopy(fixture("bolt_python_tests/view_submission_payload.json"))
    submission["view"].update(
        callback_id="save_eph", private_metadata=opened.args["view"]["private_metadata"]
    )
    await slack.interactive(submission)
    (answer,) = await slack.fake.wait_calls("chat.postEphemeral")
    assert answer.args["text"] == "Draft, revision 2"
    assert not slack.fake.calls_to("chat.update")
