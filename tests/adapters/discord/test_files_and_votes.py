"""/schedule ics as a file attachment and the private word after a vote,
through discord.py's own HTTP code against the fake Discord (SQLite and
PostgreSQL)."""

from __future__ import annotations

from adapters.discord.client import ReadgroupClient
from tests.adapters.discord.helpers import (
    body_text,
    check_all,
    custom_ids,
    first_answer,
    interact,
    webhook_path,
)
from tests.fakes.discord_fake import FakeDiscord

EPHEMERAL = 64
UPDATE_MESSAGE = 7
MANAGE_GUILD = 1 << 5
TITLE = "Heat-bath random walks with Markov bases"


async def test_schedule_ics_comes_as_an_ephemeral_file_attachment(
    client: ReadgroupClient, fake_discord: FakeDiscord
) -> None:
    setting = fake_discord.slash(
        "readgroup",
        {"what": "config", "setting": 'meeting "Thu 16:00 Europe/Berlin"'},
        permissions=MANAGE_GUILD,
    )
    await interact(fake_discord, setting)
    assert "meets every" in body_text((await first_answer(fake_discord, setting)).body)

    ics = fake_discord.slash("schedule", {"format": "ics"})
    mark = len(fake_discord.requests)
    await interact(fake_discord, ics)
    base = webhook_path(fake_discord, ics)
    sent = await fake_discord.wait_for(
        lambda r: r.method == "POST" and r.path == base, after=mark, within=15
    )
    (attached,) = sent.files
    name, content = attached
    assert name == "readgroup-schedule.ics"
    assert content.startswith(b"BEGIN:VCALENDAR") and content.count(b"BEGIN:VEVENT") == 8
    assert sent.body["flags"] & EPHEMERAL  # only the one who asked sees it
    assert [a["filename"] for a in sent.body["attachments"]] == ["readgroup-schedule.ics"]
    text = body_text(sent.body)
    assert "readgroup-schedule.ics" in text and "BEGIN:VCALENDAR" not in text
    message = fake_discord.messages[max(fake_discord.messages)]
    assert [a["filename"] for a in message["attachments"]] == ["readgroup-schedule.ics"]
    check_all(fake_discord)


async def test_a_vote_updates_the_card_and_tells_the_voter_privately(
    client: ReadgroupClient, fake_discord: FakeDiscord
) -> None:
    propose = fake_discord.slash("propose", {"paper": "1605.08386"})
    await interact(fake_discord, propose)
    card = await first_answer(fake_discord, propose)
    (cid,) = [c for c in custom_ids(card.body) if c.startswith("rg:upvote:")]
    message = next(m for m in fake_discord.messages.values() if cid in str(m["components"]))

    steps = (("▲ Upvote (2)", "Vote counted: "), ("▲ Upvote (1)", "Your vote was removed: "))
    for label, said in steps:
        press = fake_discord.button(cid, message, user_id=22, name="Cy")
        mark = len(fake_discord.requests)
        _, callback = await interact(fake_discord, press)
        assert callback.body["type"] == UPDATE_MESSAGE  # the card, updated in place
        assert callback.body["data"]["components"][0]["components"][0]["label"] == label
        base = webhook_path(fake_discord, press)
        note = await fake_discord.wait_for(
            lambda r, base=base: r.method == "POST" and r.path == base, after=mark
        )
        assert note.body["flags"] & EPHEMERAL and note.body["content"].startswith(said)
        assert TITLE in note.body["content"]
        # The card is never deleted or overwritten by the note.
        assert not fake_discord.find("DELETE", base + "/messages/@original")
        assert not fake_discord.find("PATCH", base + "/messages/@original")
    assert int(message["id"]) in fake_discord.messages
    check_all(fake_discord)
