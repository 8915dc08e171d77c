"""The weekly post end to end through the Discord adapter: /digest by an
organizer answers privately with the draft and its buttons (registered by
name, loaded at this first use), and Approve & publish posts the post in the
channel once; a member without Manage Server cannot press it."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from adapters.discord.client import ReadgroupClient
from bot.app import Bot
from storage.digest.tables import DigestDraft
from tests.adapters.discord.helpers import body_text, custom_ids, interact
from tests.adapters.discord.test_discussion_through_discord import (
    MANAGE_GUILD,
    ORGANIZER,
    run,
    settle,
)
from tests.fakes.discord_fake import FakeDiscord


def _message_with(fake: FakeDiscord, part: str) -> tuple[dict[str, Any], str] | None:
    for message in fake.messages.values():
        for cid in custom_ids(message):
            if part in cid:
                return message, cid
    return None


def _posts_titled(fake: FakeDiscord, title: str) -> list[dict[str, Any]]:
    """What the bot posted in the channel itself (not answers to interactions)."""
    sent = fake.find("POST", rf"^/channels/{fake.channel_id}/messages$")
    return [r.body for r in sent if title in body_text(r.body)]


async def test_digest_then_approve_publishes_the_post_once_from_discord(
    client: ReadgroupClient, fake_discord: FakeDiscord, bot: Bot
) -> None:
    assert "Heat-bath" in await run(fake_discord, "propose", {"paper": "1605.08386"})
    draft_text = await run(fake_discord, "digest", {})
    assert "This Week in ML" in draft_text and "Heat-bath" in draft_text

    found = _message_with(fake_discord, "digest_approve")
    assert found is not None, "the draft has no Approve & publish button"
    message, approve = found

    # A plain member's press is refused and publishes nothing.
    _, refused = await interact(fake_discord, fake_discord.button(approve, message, user_id=5))
    assert "organizer" in str(refused.body).lower()
    assert not _posts_titled(fake_discord, "This Week in ML")

    press = fake_discord.button(
        approve, message, user_id=ORGANIZER, name="Org", permissions=MANAGE_GUILD
    )
    await interact(fake_discord, press)
    draft = await settle(
        bot,
        lambda s: s.exec(select(DigestDraft).where(DigestDraft.status == "published")).first(),
    )
    assert draft.published_message
    posts = _posts_titled(fake_discord, "This Week in ML")
    assert len(posts) == 1 and "Heat-bath" in body_text(posts[0])
    # The organizer's confirmation names the channel as Discord links one, not by its id.
    confirmation = str(fake_discord.messages[int(message["id"])])
    assert "Published" in confirmation, confirmation[:500]
    assert f"<#{fake_discord.channel_id}>" in confirmation
    assert f" #{fake_discord.channel_id}" not in confirmation
