"""Malformed interaction data through discord.py's own gateway code: ignored
with one log line (no traceback, nothing stored, nothing answered); NUL
characters in what people type are removed before the database sees them
(PostgreSQL refuses them)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlmodel import func, select

from adapters.discord import inbound_schema as schema
from adapters.discord.client import ReadgroupClient
from bot.app import Bot
from storage.groups.tables import Group, Member
from storage.papers.tables import Proposal
from tests.adapters.discord.helpers import body_text, first_answer, interact
from tests.fakes.discord_fake import FakeDiscord


async def _counts(bot: Bot) -> tuple[int, int, int]:
    def count(*, session):  # type: ignore[no-untyped-def]
        return tuple(
            session.exec(select(func.count()).select_from(t)).one()
            for t in (Group, Member, Proposal)
        )

    return await bot.db(count)


def _broken(fake: FakeDiscord, what: str) -> dict[str, Any]:
    payload = fake.slash("propose", {"paper": "1605.08386"})
    data = payload["data"]
    match what:
        case "options as a string":
            data["options"] = "1605.08386"
        case "an option that is not an object":
            data["options"] = ["1605.08386"]
        case "an option without a name":
            data["options"] = [{"type": 3, "value": "1605.08386"}]
        case "no command name":
            data.pop("name")
        case "a command name with spaces":
            data["name"] = "propose now"
    return payload


BROKEN = [
    "options as a string",
    "an option that is not an object",
    "an option without a name",
    "no command name",
    "a command name with spaces",
]


@pytest.mark.parametrize("what", BROKEN)
async def test_a_malformed_command_is_ignored_with_one_log_line(
    client: ReadgroupClient,
    fake_discord: FakeDiscord,
    bot: Bot,
    caplog: pytest.LogCaptureFixture,
    what: str,
) -> None:
    caplog.set_level(logging.WARNING)
    broken = _broken(fake_discord, what)
    await fake_discord.dispatch("INTERACTION_CREATE", broken)
    # The gateway is in order: once a good command is answered, the broken one was seen.
    await interact(fake_discord, fake_discord.slash("queue", {}))
    paths = [r.path for r in fake_discord.requests]
    assert not [p for p in paths if f"/interactions/{broken['id']}/" in p]
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    ignored = [r for r in caplog.records if "malformed Discord command" in r.getMessage()]
    assert len(ignored) == 1
    # The broken /propose stored nothing; the good /queue may have made its
    # group and member (in the background, so they may or may not be there yet).
    groups, members, proposals = await _counts(bot)
    assert proposals == 0 and groups <= 1 and members <= 1


async def test_nul_characters_in_options_are_removed_and_the_proposal_is_saved(
    client: ReadgroupClient, fake_discord: FakeDiscord, bot: Bot
) -> None:
    payload = fake_discord.slash("propose", {"paper": "1605.08386", "why": "good\x00 one\x00"})
    await interact(fake_discord, payload)
    answer = await first_answer(fake_discord, payload)
    assert "good one" in body_text(answer.body)

    def why(*, session):  # type: ignore[no-untyped-def]
        return session.exec(select(Proposal)).one().why

    assert await bot.db(why) == "good one"


async def test_a_malformed_modal_submission_is_ignored(
    client: ReadgroupClient,
    fake_discord: FakeDiscord,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    broken = fake_discord.modal_submit("rg:digest_edit:1", {"body": "x"})
    broken["data"]["components"] = [{"type": 1, "components": "not a list"}]
    await fake_discord.dispatch("INTERACTION_CREATE", broken)
    await interact(fake_discord, fake_discord.slash("queue", {}))
    assert not [r for r in fake_discord.requests if f"/interactions/{broken['id']}/" in r.path]
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    assert [r for r in caplog.records if "malformed Discord form submission" in r.getMessage()]


# ---------------------------------------------------------------- untrusted text
HOSTILE_TITLE = "*Bold* _it_ ~strike~ `code` \u202eevil\u200b \u2066iso\u2069"
HOSTILE_ABSTRACT = "We show *this*. Visit https://evil.example/login now. \u202egnp.exe"


async def test_untrusted_text_is_escaped_for_discord_without_controls_or_links(
    client: ReadgroupClient, fake_discord: FakeDiscord, bot: Bot
) -> None:
    import re

    from storage.papers.tables import Paper

    first = fake_discord.slash(
        "propose", {"paper": "1605.08386", "why": "see https://evil.example"}
    )
    await interact(fake_discord, first)
    await first_answer(fake_discord, first)

    def edit(*, session):  # type: ignore[no-untyped-def]
        paper = session.exec(select(Paper)).one()
        paper.title, paper.abstract = HOSTILE_TITLE, HOSTILE_ABSTRACT
        session.add(paper)

    await bot.db(edit)
    again = fake_discord.slash("propose", {"paper": "1605.08386"}, user_id=11, name="Bo")
    after = len(fake_discord.requests)
    await interact(fake_discord, again)
    answer = await first_answer(fake_discord, again, after=after)
    text = body_text(answer.body)
    queue = fake_discord.slash("queue", {})
    after = len(fake_discord.requests)
    await interact(fake_discord, queue)
    text += "\n" + body_text((await first_answer(fake_discord, queue, after=after)).body)
    ours = re.sub("(?<=[@<])\u200b", "", text)  # the renderer's own mention breakers
    assert not re.search("[\u200b-\u200f\u202a-\u202e\u2060-\u206f]", ours)
    assert "https://evil.example" not in text
    assert "\\*Bold\\*" in text or "\\*Bold\\*" in str(answer.body)
    assert "\\_it\\_" in text and "\\~strike\\~" in text and "\\`code\\`" in text


@pytest.mark.parametrize("name", ["¼", "x²", "it's", "नमस्ते", "ไทย", "a" * 32])
def test_a_name_discord_allows_is_not_malformed(name: str) -> None:
    """Discord's naming rule admits numbers of any kind, apostrophes,
    Devanagari and Thai; a name it can send is the router's to answer
    ("unknown command"), not dropped at the edge as malformed."""
    raw = {"name": name, "options": [{"name": name, "type": 3, "value": "x"}]}
    data = schema.parse(schema.CommandData, raw, what="command")
    assert data is not None and data.name == name and data.options[0].name == name


@pytest.mark.parametrize("name", ["", "a b", "a/b", "a" * 33, "propose!"])
def test_a_name_discord_cannot_send_is_malformed(name: str) -> None:
    assert schema.parse(schema.CommandData, {"name": name}, what="command") is None
