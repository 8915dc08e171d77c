"""Discussion threads end to end through the Discord adapter: /present posts the
card and opens a thread on it, messages in the thread are stored as the
session's discussion, and a 💡 reaction marks a takeaway that /takeaways lists."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlmodel import Session, col, select

from adapters.discord.client import ReadgroupClient
from bot.app import Bot
from storage.schedule.tables import DiscussionMessage, MeetingSession
from tests.adapters.discord.helpers import body_text, check_all, first_answer, interact
from tests.fakes.discord_fake import FakeDiscord

MANAGE_GUILD = 1 << 5
ORGANIZER = 70000000000000001


async def run(fake: FakeDiscord, command: str, options: dict[str, str]) -> str:
    """A slash command from an organizer; returns the text of its answer."""
    payload = fake.slash(command, options, user_id=ORGANIZER, name="Org", permissions=MANAGE_GUILD)
    after = len(fake.requests)
    await interact(fake, payload)
    answer = await first_answer(fake, payload, after=after)
    return body_text(answer.body)


async def settle(bot: Bot, check: Any) -> Any:
    for _ in range(100):
        await bot.drain(0.1)
        with Session(bot.engine) as s:
            found = check(s)
        if found:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError("the database never reached the expected state")


async def test_thread_messages_and_bulb_takeaways_are_stored_from_discord(
    client: ReadgroupClient, fake_discord: FakeDiscord, bot: Bot
) -> None:
    said = await run(
        fake_discord,
        "readgroup",
        {"what": "config", "setting": 'meeting "Thu 16:00 Europe/Berlin"'},
    )
    assert "Thu 16:00 Europe/Berlin" in said
    await run(fake_discord, "rotation", {"action": "join"})
    assert "Heat-bath" in await run(fake_discord, "propose", {"paper": "1605.08386"})
    await run(fake_discord, "present", {"paper": "1605.08386"})

    meeting = await settle(
        bot,
        lambda s: s.exec(
            select(MeetingSession).where(col(MeetingSession.thread_id).is_not(None))
        ).first(),
    )
    thread_id = int(meeting.thread_id)
    (create,) = fake_discord.find(
        "POST", rf"/channels/{fake_discord.channel_id}/messages/\d+/threads"
    )
    assert create.path.endswith(f"/messages/{thread_id}/threads")  # the thread hangs on the card

    insight = fake_discord.user_message(
        thread_id, "The mixing time bound does not depend on the fiber"
    )
    await fake_discord.dispatch("MESSAGE_CREATE", insight)
    await fake_discord.dispatch("MESSAGE_CREATE", insight)  # a gateway replay stores nothing twice
    await fake_discord.dispatch("MESSAGE_CREATE", fake_discord.user_message(thread_id, "+1"))
    await settle(bot, lambda s: len(s.exec(select(DiscussionMessage)).all()) == 2)
    await fake_discord.dispatch(
        "MESSAGE_REACTION_ADD", fake_discord.reaction(thread_id, int(insight["id"]), "💡")
    )
    marked = await settle(
        bot,
        lambda s: s.exec(select(DiscussionMessage).where(col(DiscussionMessage.takeaway))).all(),
    )
    assert [m.text for m in marked] == ["The mixing time bound does not depend on the fiber"]
    assert marked[0].author_user_id == str(insight["author"]["id"])

    listed = await run(fake_discord, "takeaways", {})
    assert "The mixing time bound does not depend on the fiber" in listed and "+1" not in listed
    check_all(fake_discord)
