"""A card stays one message however long its reason, and a vote edits that
one message in place, never adding follow-ups (through discord.py and the
fake Discord, on SQLite and PostgreSQL)."""

from __future__ import annotations

from adapters.discord.client import ReadgroupClient
from bot.chat.replies import Button, Buttons, Reply, Text
from bot.chat.router import Ctx
from tests.adapters.discord.helpers import (
    body_text,
    custom_ids,
    first_answer,
    interact,
    webhook_path,
)
from tests.fakes.discord_fake import FakeDiscord

UPDATE_MESSAGE = 7


def _followups(fake: FakeDiscord, token: str) -> list:  # type: ignore[type-arg]
    """Public follow-ups of an interaction (the private "Vote counted" note,
    flag 64, is not a new message in the channel)."""
    return [
        r
        for r in fake.requests
        if r.method == "POST" and r.path.endswith(token) and not (r.body or {}).get("flags", 0) & 64
    ]


def _public(fake: FakeDiscord) -> int:
    return sum(1 for m in fake.messages.values() if not (m.get("flags") or 0) & 64)


async def _card(fake: FakeDiscord, why: str) -> tuple[str, dict]:  # type: ignore[type-arg]
    options = {"paper": "1605.08386", **({"why": why} if why else {})}
    propose = fake.slash("propose", options)
    await interact(fake, propose)
    answer = await first_answer(fake, propose)
    if why:  # the private note that the reason was cut follows the card
        await fake.wait_for(lambda r: r.method == "POST" and r.path == webhook_path(fake, propose))
    (cid,) = [c for c in custom_ids(answer.body) if c.startswith("rg:upvote:")]
    message = next(m for m in fake.messages.values() if cid in str(m["components"]))
    return cid, message


async def test_a_card_with_a_13k_reason_is_one_message_and_votes_never_grow_it(
    client: ReadgroupClient, fake_discord: FakeDiscord
) -> None:
    reason = ("This paper matters for our retrieval work because " * 261).strip()
    cid, message = await _card(fake_discord, reason)
    shown = body_text(message)
    assert "/queue 1605.08386" in shown and len(shown) < 4_000
    before = _public(fake_discord)
    for user in [22, 23, 22]:
        press = fake_discord.button(cid, message, user_id=user, name=f"U{user}")
        _, callback = await interact(fake_discord, press)
        assert callback.body["type"] == UPDATE_MESSAGE
        assert not _followups(fake_discord, press["token"])
    label = callback.body["data"]["components"][0]["components"][0]["label"]
    assert label == "▲ Upvote (2)"
    assert _public(fake_discord) == before  # three votes, no new message


async def test_a_replacement_too_long_for_one_message_edits_just_that_message(
    client: ReadgroupClient, fake_discord: FakeDiscord
) -> None:
    long_text = "\n\n".join(f"Paragraph {n}: " + "words " * 600 for n in range(6))

    async def grow(ctx: Ctx) -> list[Reply]:
        return [
            Reply(
                blocks=(Text(long_text), Buttons((Button("▲ Again", "grow", "1"),))),
                replace=True,
            )
        ]

    client.bot.router.action("grow")(grow)
    _cid, message = await _card(fake_discord, "")
    before = _public(fake_discord)
    button = {"type": 2, "style": 1, "label": "Grow", "custom_id": "rg:grow:1"}
    message = {**message, "components": [{"type": 1, "components": [button]}]}
    press = fake_discord.button("rg:grow:1", message, user_id=22, name="Cy")
    _, callback = await interact(fake_discord, press)
    assert callback.body["type"] == UPDATE_MESSAGE
    data = callback.body["data"]
    assert custom_ids(data) == ["rg:grow:1"] and "Shortened to fit" in body_text(data)
    assert not _followups(fake_discord, press["token"])
    assert _public(fake_discord) == before
