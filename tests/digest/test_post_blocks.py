"""The weekly post leaves the core as neutral blocks: no platform's length
limit is known here, and each adapter cuts the body to its own."""

from __future__ import annotations

from adapters.discord.render import CONTENT_MAX, DESCRIPTION_MAX, render_reply
from adapters.slack.render import SECTION_MAX
from adapters.slack.render import render as slack_render
from bot.chat.markup import esc
from bot.chat.replies import Header, Text
from bot.digest.publishing import split_post
from bot.digest.render import post_reply
from tests.adapters import long_digest

TITLE = "This Week in ML: 2026-W47"


def _body(size: int = 40_000) -> str:
    return "\n\n".join(esc(p) for p in long_digest.paragraphs())[:size]


def test_a_long_post_body_is_one_text_block_not_cut_to_a_platform_limit() -> None:
    body = _body()
    reply = post_reply(TITLE, body)
    assert reply.blocks == (Header(TITLE), Text(body.strip()))


def test_an_empty_body_makes_no_text_block() -> None:
    assert post_reply(TITLE, " \n\n ").blocks == (Header(TITLE),)


def test_each_part_of_a_long_post_is_one_slack_message_within_its_section_limit() -> None:
    """Publishing records each part as one message: on Slack the adapter keeps
    a part to one message while cutting it into sections."""
    parts = split_post(TITLE, _body())
    assert len(parts) > 5
    for part in parts:
        messages = slack_render(part)
        assert len(messages) == 1
        sections = [b for b in messages[0]["blocks"] if b["type"] == "section"]
        assert sections and all(len(b["text"]["text"]) <= SECTION_MAX for b in sections)


def test_discord_cuts_each_part_to_its_own_limits() -> None:
    for part in split_post(TITLE, _body()):
        for message in render_reply(part):
            assert len(message.content) <= CONTENT_MAX
            assert all(len(e.description or "") <= DESCRIPTION_MAX for e in message.embeds)
