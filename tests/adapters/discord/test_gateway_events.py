"""Threads, thread messages, reactions and the messenger, through the fake."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.discord.client import ReadgroupClient
from bot.app import Bot
from bot.chat.events import Place, Reaction, ThreadMessage
from bot.chat.messenger import DeliveryError
from bot.chat.replies import Reply, Text, say
from tests.adapters.discord.helpers import check_all
from tests.fakes.discord_fake import FakeDiscord

ADA = 53908099506183680


def _place(fake: FakeDiscord) -> Place:
    return Place("discord", str(fake.guild_id), str(fake.channel_id))


def _recorder(bot: Bot) -> list[Any]:
    seen: list[Any] = []

    async def record(ctx: Any) -> None:
        seen.append(ctx.event)

    bot.router.thread_message(record)
    bot.router.reaction(record)
    return seen


async def _settle(bot: Bot, seen: list[Any], count: int) -> None:
    for _ in range(200):
        await bot.drain(0.05)
        if len(seen) >= count:
            return
        import asyncio

        await asyncio.sleep(0.01)
    raise AssertionError(f"expected {count} events, got {seen}")


async def test_thread_messages_and_reactions_reach_the_core(
    client: ReadgroupClient, fake_discord: FakeDiscord, bot: Bot
) -> None:
    seen = _recorder(bot)
    place = _place(fake_discord)
    card_id = await bot.messenger.post(place, say("Session paper: **Attention**"))
    assert card_id is not None
    thread_id = await bot.messenger.open_thread(place, card_id, "Attention is all you need")
    (create,) = fake_discord.find(
        "POST", rf"/channels/{fake_discord.channel_id}/messages/\d+/threads"
    )
    assert create.path.endswith(f"/messages/{card_id}/threads")
    assert create.body["name"] == "Attention is all you need"
    assert thread_id == card_id  # a thread started from a message takes its id

    message = fake_discord.user_message(int(thread_id), "The masking trick is neat")
    await fake_discord.dispatch("MESSAGE_CREATE", message)
    bot_message = fake_discord.user_message(int(thread_id), "I am a bot")
    bot_message["author"]["bot"] = True
    await fake_discord.dispatch("MESSAGE_CREATE", bot_message)
    outside = fake_discord.user_message(fake_discord.channel_id, "not in a thread")
    await fake_discord.dispatch("MESSAGE_CREATE", outside)

    await fake_discord.dispatch(
        "MESSAGE_REACTION_ADD", fake_discord.reaction(int(thread_id), int(message["id"]), "💡")
    )
    removal = fake_discord.reaction(int(thread_id), int(message["id"]), "💡")
    removal.pop("member")
    await fake_discord.dispatch("MESSAGE_REACTION_REMOVE", removal)
    await _settle(bot, seen, 3)

    (msg,) = [e for e in seen if isinstance(e, ThreadMessage)]
    added, removed = sorted((e for e in seen if isinstance(e, Reaction)), key=lambda e: not e.added)
    assert msg.text == "The masking trick is neat"
    assert msg.actor.user_id == str(ADA) and msg.actor.platform == "discord"
    assert msg.place.thread == thread_id
    assert msg.place.channel == str(fake_discord.channel_id)  # the group's channel
    assert msg.place.workspace == str(fake_discord.guild_id)
    assert msg.place.message == message["id"]
    assert msg.sent_at is not None
    assert (added.emoji, added.added, removed.added) == ("💡", True, False)
    assert added.place.message == message["id"] and added.place.thread == thread_id
    assert added.actor.user_id == removed.actor.user_id == str(ADA)
    # The thread's parent was learnt once from GET /channels/{id}.
    assert len(fake_discord.find("GET", rf"/channels/{thread_id}")) == 1
    check_all(fake_discord)


async def test_replies_to_thread_messages_go_to_the_thread(
    client: ReadgroupClient, fake_discord: FakeDiscord, bot: Bot
) -> None:
    async def answer(ctx: Any) -> Reply:
        return Reply(blocks=(Text("noted"),), in_thread=True)

    bot.router.thread_message(answer)
    thread = fake_discord.thread(fake_discord.next_id(), parent_id=fake_discord.channel_id)
    await fake_discord.dispatch("THREAD_CREATE", {**thread, "newly_created": True})
    await fake_discord.dispatch(
        "MESSAGE_CREATE", fake_discord.user_message(int(thread["id"]), "a takeaway")
    )
    sent = await fake_discord.wait_for(
        lambda r: r.method == "POST" and r.path == f"/channels/{thread['id']}/messages"
    )
    assert sent.body["content"] == "noted"
    assert sent.body["allowed_mentions"] == {"parse": []}
    # The thread came from the gateway cache: no lookup needed.
    assert not fake_discord.find("GET", rf"/channels/{thread['id']}")


async def test_direct_messages_and_delivery_errors(
    client: ReadgroupClient, fake_discord: FakeDiscord, bot: Bot
) -> None:
    mid = await bot.messenger.direct("discord", str(fake_discord.guild_id), str(ADA), say("hi"))
    (dm,) = fake_discord.find("POST", "/users/@me/channels")
    assert dm.body == {"recipient_id": str(ADA)} or dm.body == {"recipient_id": ADA}
    assert mid is not None

    fake_discord.fail("POST", rf"/channels/{fake_discord.channel_id}/messages", 403, code=50013)
    with pytest.raises(DeliveryError, match="403"):
        await bot.messenger.post(_place(fake_discord), say("refused"))
    fake_discord.fail("POST", r"/channels/\d+/messages/\d+/threads", 403, code=50013)
    with pytest.raises(DeliveryError, match="thread"):
        await bot.messenger.open_thread(_place(fake_discord), "123456789012345678", "x")
    fake_discord.fail("POST", r"/channels/\d+/messages/\d+/threads", 400, code=160004)
    assert (
        await bot.messenger.open_thread(_place(fake_discord), "123456789012345678", "x")
        == "123456789012345678"
    )
    check_all(fake_discord)


async def test_a_long_digest_posts_as_several_messages_within_limits(
    client: ReadgroupClient, fake_discord: FakeDiscord, bot: Bot
) -> None:
    from tests.adapters.discord.test_render import _digest

    reply = _digest(40_000)
    await bot.messenger.post(_place(fake_discord), reply)
    posts = fake_discord.find("POST", rf"/channels/{fake_discord.channel_id}/messages")
    sizes = []
    for post in posts:
        body = post.body
        assert len(body.get("content") or "") <= 2000
        assert body["allowed_mentions"] == {"parse": []}
        assert len(body["embeds"]) <= 10
        total = 0
        for e in body["embeds"]:
            assert len(e.get("description") or "") <= 4096
            assert len(e.get("fields") or []) <= 25
            assert all(
                len(f["value"]) <= 1024 and len(f["name"]) <= 256 for f in e.get("fields", [])
            )
            total += len(e.get("title") or "") + len(e.get("description") or "")
            total += sum(len(f["name"]) + len(f["value"]) for f in e.get("fields") or [])
        assert total <= 6000
        sizes.append(total)
    print(f"\nMEASURED 40 KB digest: {len(posts)} messages, embed chars per message {sizes}")
    assert len(posts) >= 7  # 40,000 characters cannot fit in fewer 6,000-character messages
    assert sum(sizes) >= 40_000 * 0.9
    check_all(fake_discord)
