"""Commands and buttons through discord.py's own gateway and HTTP code,
against the loopback fake Discord (on SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import pytest
from sqlmodel import select

from adapters.discord.client import ReadgroupClient
from bot.app import Bot
from bot.papers import proposals as svc
from storage.papers.tables import Paper, PaperStatus, Vote
from tests.adapters.discord.conftest import StartClient, stop_client
from tests.adapters.discord.helpers import (
    ZWSP,
    all_strings,
    body_text,
    check_all,
    custom_ids,
    first_answer,
    interact,
    webhook_path,
)
from tests.fakes.discord_fake import FakeDiscord

log = logging.getLogger(__name__)

TITLE = "Heat-bath random walks with Markov bases"
EPHEMERAL = 64
DEFER_WITH_THINKING = 5
UPDATE_MESSAGE = 7
MANAGE_GUILD = 1 << 5
MESSAGE_CONTENT_INTENT = 1 << 15


async def test_login_and_guild_sync_register_the_routers_commands(
    client: ReadgroupClient, fake_discord: FakeDiscord, bot: Bot
) -> None:
    paths = [(r.method, r.path) for r in fake_discord.requests]
    assert ("GET", "/users/@me") in paths
    guild_route = f"/applications/{fake_discord.app_id}/guilds/{fake_discord.guild_id}/commands"
    assert ("PUT", guild_route) in paths
    assert client.sync_result == "guild"
    assert fake_discord.identifies[0]["intents"] & MESSAGE_CONTENT_INTENT
    assert fake_discord.identifies[0]["compress"] is True

    (put,) = fake_discord.find("PUT", guild_route)
    sent = {c["name"]: c for c in put.body}
    assert sorted(sent) == sorted(bot.router.commands)
    for name, spec in bot.router.commands.items():
        options = {o["name"]: o for o in sent[name]["options"]}
        assert sorted(options) == sorted(o.name for o in spec.options), name
        for opt in spec.options:
            got = options[opt.name]
            assert got["type"] == 3 and got["description"] == opt.description[:100]
            assert got["required"] == opt.required
            assert got.get("autocomplete", False) == bool(opt.autocomplete and not opt.choices)
            assert [c["value"] for c in got.get("choices", [])] == list(opt.choices)
        assert sent[name]["description"] == spec.summary[:100]
    assert sent["withdraw"]["options"][0]["autocomplete"] is True
    check_all(fake_discord)


async def test_propose_defers_within_3s_then_edits_in_the_card(
    client: ReadgroupClient, fake_discord: FakeDiscord
) -> None:
    payload = fake_discord.slash("propose", {"paper": "1605.08386", "why": "good one"})
    sent, callback = await interact(fake_discord, payload)
    delay = callback.time - sent
    log.warning("propose: INTERACTION_CREATE -> deferral took %.1f ms", delay * 1000)
    print(f"\nMEASURED propose deferral: {delay * 1000:.1f} ms")
    assert callback.body["type"] == DEFER_WITH_THINKING
    assert not (callback.body.get("data") or {}).get("flags", 0) & EPHEMERAL
    assert delay < 3.0

    answer = await first_answer(fake_discord, payload)
    assert answer.method == "PATCH"  # the public card replaces the "thinking" message
    (embed,) = answer.body["embeds"]
    assert embed["title"] == TITLE and embed["url"] == "https://arxiv.org/abs/1605.08386"
    assert "good one" in body_text(answer.body)
    assert any(cid.startswith("rg:upvote:") for cid in custom_ids(answer.body))
    assert answer.body["allowed_mentions"] == {"parse": []}
    check_all(fake_discord)


async def test_dedupe_and_bad_input_answer_ephemerally(
    client: ReadgroupClient, fake_discord: FakeDiscord
) -> None:
    first = fake_discord.slash("propose", {"paper": "1605.08386"})
    await interact(fake_discord, first)
    await first_answer(fake_discord, first)

    again = fake_discord.slash("propose", {"paper": "arXiv:1605.08386v2"}, user_id=11, name="Bo")
    mark = len(fake_discord.requests)
    await interact(fake_discord, again)
    base = webhook_path(fake_discord, again)
    followup = await fake_discord.wait_for(
        lambda r: r.method == "POST" and r.path == base, after=mark
    )
    assert followup.body["flags"] & EPHEMERAL
    assert "already proposed by Mason" in followup.body["content"]
    assert "counted your vote" in followup.body["content"]
    # The public "thinking" message was removed rather than left hanging.
    assert fake_discord.find("DELETE", base + "/messages/@original")

    bad = fake_discord.slash("propose", {"paper": "not a paper"})
    mark = len(fake_discord.requests)
    await interact(fake_discord, bad)
    base = webhook_path(fake_discord, bad)
    error = await fake_discord.wait_for(lambda r: r.method == "POST" and r.path == base, after=mark)
    assert error.body["flags"] & EPHEMERAL
    assert "not a paper" in error.body["content"] or "arXiv" in error.body["content"]
    check_all(fake_discord)


async def test_queue_lists_open_proposals_with_vote_buttons(
    client: ReadgroupClient, fake_discord: FakeDiscord
) -> None:
    first = fake_discord.slash("propose", {"paper": "1605.08386"})
    await interact(fake_discord, first)
    await first_answer(fake_discord, first)

    queue = fake_discord.slash("queue", {})
    await interact(fake_discord, queue)
    answer = await first_answer(fake_discord, queue)
    text = body_text(answer.body)
    assert "Reading queue: 1 open proposal" in text and TITLE in text and "1 vote" in text
    assert any(cid.startswith("rg:upvote_queue:") for cid in custom_ids(answer.body))
    check_all(fake_discord)


async def _vote_count(bot: Bot, proposal_id: int) -> int:
    def count(*, session: Any) -> int:
        return len(session.exec(select(Vote).where(Vote.proposal_id == proposal_id)).all())

    return await bot.db(count)


async def test_a_button_pressed_after_a_restart_still_toggles_the_vote(
    start_client: StartClient, fake_discord: FakeDiscord, bot: Bot
) -> None:
    first = await start_client()
    propose = fake_discord.slash("propose", {"paper": "1605.08386"})
    await interact(fake_discord, propose)
    card = await first_answer(fake_discord, propose)
    (cid,) = [c for c in custom_ids(card.body) if c.startswith("rg:upvote:")]
    proposal_id = int(cid.rsplit(":", 1)[1])
    message = next(m for m in fake_discord.messages.values() if cid in str(m["components"]))
    assert await _vote_count(bot, proposal_id) == 1

    await stop_client(first)
    await start_client()  # a new process: nothing of the old client's state

    press = fake_discord.button(cid, message, user_id=22, name="Cy")
    _, callback = await interact(fake_discord, press)
    assert callback.body["type"] == UPDATE_MESSAGE
    data = callback.body["data"]
    assert TITLE in body_text(data)
    assert custom_ids(data) == [cid]
    label = data["components"][0]["components"][0]["label"]
    assert label == "▲ Upvote (2)"
    assert await _vote_count(bot, proposal_id) == 2
    assert "▲ Upvote (2)" in str(fake_discord.messages[int(message["id"])]["components"])

    again = fake_discord.button(cid, message, user_id=22, name="Cy")
    _, callback = await interact(fake_discord, again)
    assert callback.body["data"]["components"][0]["components"][0]["label"] == "▲ Upvote (1)"
    assert await _vote_count(bot, proposal_id) == 1
    check_all(fake_discord)


async def test_a_title_with_everyone_pings_nobody(
    client: ReadgroupClient, fake_discord: FakeDiscord, bot: Bot
) -> None:
    evil = "Attention is @everyone you need <@&1234567890123456> @here <@53908232506183680>"

    def seed(*, session: Any) -> None:
        paper = svc.get_or_create_paper(session=session, arxiv_id="1605.08386", now=bot.clock.now())
        paper.title = evil
        paper.authors = ["@everyone", "Ada"]
        paper.abstract = "We ping @here and <#345626669114982999>."
        paper.status = PaperStatus.READY
        session.add(paper)

    await bot.db(seed)
    payload = fake_discord.slash("propose", {"paper": "1605.08386", "why": "@everyone look"})
    await interact(fake_discord, payload)
    answer = await first_answer(fake_discord, payload)
    assert answer.body["allowed_mentions"] == {"parse": []}
    strings = all_strings(answer.body)
    joined = "\n".join(strings)
    assert "Attention is" in joined
    for needle in ("@everyone", "@here", "<@&", "<@5", "<#"):
        assert needle not in joined, needle
    assert f"@{ZWSP}everyone" in joined and f"@{ZWSP}here" in joined

    def title(*, session: Any) -> str:
        return session.exec(select(Paper.title)).one()

    assert evil == await bot.db(title)  # the stored row was the one rendered


async def test_manage_server_makes_the_actor_an_organizer(
    start_client: StartClient, fake_discord: FakeDiscord, bot: Bot
) -> None:
    seen: list[Any] = []

    async def whoami(ctx: Any) -> None:
        seen.append(ctx.event)

    bot.router.command("whoami", summary="test", example="/whoami")(whoami)
    await start_client()
    for perms in (MANAGE_GUILD, 0):
        payload = fake_discord.slash("whoami", {}, permissions=perms)
        await interact(fake_discord, payload)
    await bot.drain()
    assert [e.actor.is_admin for e in seen] == [True, False]
    assert seen[0].place.workspace == str(fake_discord.guild_id)
    assert seen[0].place.channel == str(fake_discord.channel_id)


async def test_autocomplete_offers_open_proposals_by_title(
    client: ReadgroupClient, fake_discord: FakeDiscord
) -> None:
    first = fake_discord.slash("propose", {"paper": "1605.08386"})
    await interact(fake_discord, first)
    await first_answer(fake_discord, first)

    typing = fake_discord.slash("withdraw", {"paper": "heat"}, focused="paper")
    _, callback = await interact(fake_discord, typing)
    assert callback.body["type"] == 8
    assert callback.body["data"]["choices"] == [
        {"name": f"{TITLE} (1605.08386)", "value": "1605.08386"}
    ]
    check_all(fake_discord)


async def test_autocomplete_offers_known_members_for_people(
    client: ReadgroupClient, fake_discord: FakeDiscord
) -> None:
    first = fake_discord.slash("propose", {"paper": "1605.08386"})  # Mason becomes known
    await interact(fake_discord, first)
    await first_answer(fake_discord, first)

    typing = fake_discord.slash("rotation", {"action": "add", "people": "mas"}, focused="people")
    _, callback = await interact(fake_discord, typing)
    assert callback.body["data"]["choices"] == [{"name": "Mason", "value": "<@53908232506183680>"}]


@pytest.mark.parametrize("slow", [False, True])
async def test_a_button_opens_a_modal_and_its_submission_reaches_the_core(
    start_client: StartClient,
    fake_discord: FakeDiscord,
    bot: Bot,
    slow: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from adapters.discord import client as client_module
    from bot.chat.events import Place
    from bot.chat.replies import Button, Buttons, Form, FormField, Reply, Text, say

    submitted: list[Any] = []

    async def open_form(ctx: Any) -> Reply:
        return Reply(
            blocks=(),
            form=Form(
                "Edit the draft",
                "save_draft",
                ctx.event.value,
                (FormField("body", "Text", initial="old", multiline=True),),
            ),
        )

    async def save(ctx: Any) -> Reply:
        submitted.append(ctx.event)
        return say("Saved.", private=True)

    bot.router.action("edit_draft")(open_form)
    bot.router.action("save_draft")(save)
    if slow:  # the core took too long to answer directly: defer, then follow up
        monkeypatch.setattr(client_module, "DIRECT_ANSWER_SECONDS", 0.0)
    await start_client()
    place = Place("discord", str(fake_discord.guild_id), str(fake_discord.channel_id))
    reply = Reply(blocks=(Text("Draft 7"), Buttons((Button("Edit", "edit_draft", "7"),))))
    mid = await bot.messenger.post(place, reply)
    message = fake_discord.messages[int(mid)]

    _, callback = await interact(fake_discord, fake_discord.button("rg:edit_draft:7", message))
    if slow:
        assert callback.body["type"] == 6  # deferred; a modal can no longer open
        followup = await fake_discord.wait_for(lambda r: r.path.startswith("/webhooks/"))
        assert followup.body["flags"] & EPHEMERAL
        assert "Press the button again" in followup.body["content"]
        return
    assert callback.body["type"] == 9
    modal = callback.body["data"]
    assert modal["custom_id"] == "rg:save_draft:7" and modal["title"] == "Edit the draft"
    text_input = modal["components"][0]["components"][0]
    assert text_input["custom_id"] == "body" and text_input["value"] == "old"
    assert text_input["style"] == 2

    submit = fake_discord.modal_submit("rg:save_draft:7", {"body": "new text"})
    _, callback = await interact(fake_discord, submit)
    assert callback.body["type"] == 4 and callback.body["data"]["flags"] & EPHEMERAL
    assert [(e.kind, e.value, e.fields) for e in submitted] == [
        ("save_draft", "7", (("body", "new text"),))
    ]
    check_all(fake_discord)


async def test_private_commands_defer_ephemerally_and_public_answers_still_go_public(
    start_client: StartClient, fake_discord: FakeDiscord, bot: Bot
) -> None:
    from bot.chat.replies import say

    async def loud(ctx: Any) -> Any:
        return say("Everyone: the session moved to Thursday.")

    help_cmd = fake_discord.slash("help", {})
    await start_client()
    _, callback = await interact(fake_discord, help_cmd)
    assert callback.body == {"type": 5, "data": {"flags": EPHEMERAL}}
    answer = await first_answer(fake_discord, help_cmd)
    assert answer.method == "PATCH" and "/propose" in body_text(answer.body)

    # A command deferred privately whose answer is public: the private
    # "thinking" message becomes a short note and the answer is posted for all.
    bot.router.commands["withdraw"] = dataclasses.replace(
        bot.router.commands["withdraw"], handler=loud
    )
    public = fake_discord.slash("withdraw", {"paper": "1605.08386"})
    _, callback = await interact(fake_discord, public)
    assert callback.body["data"]["flags"] & EPHEMERAL
    base = webhook_path(fake_discord, public)
    post = await fake_discord.wait_for(lambda r: r.method == "POST" and r.path == base)
    assert not post.body.get("flags", 0) & EPHEMERAL
    assert "moved to Thursday" in post.body["content"]
    (note,) = fake_discord.find("PATCH", base + "/messages/@original")
    assert note.body["content"] == "Posted in the channel."
    check_all(fake_discord)
