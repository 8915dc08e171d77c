"""The Discord adapter hands the core neutral text: channel mentions as
``#<id>`` and reactions as emoji characters (custom ones as ``:name:``)."""

from __future__ import annotations

import pytest

from adapters.discord.inbound import command_text, neutral_emoji, neutral_text


def test_channel_mentions_in_command_options_become_hash_and_id() -> None:
    assert neutral_text("channel <#345626669114982>") == "channel #345626669114982"
    assert neutral_text("organizers <@123> <@!456>") == "organizers <@123> <@!456>"
    values = {"what": "config", "setting": "channel <#345626669114982>"}
    assert command_text(None, values) == "config channel #345626669114982"


@pytest.mark.parametrize(
    ("emoji", "neutral"),
    [("💡", "💡"), ("❤\ufe0f", "❤"), ("<:bulb:1234>", ":bulb:"), ("<a:spin:99>", ":spin:")],
)
def test_reactions_reach_the_core_in_one_form(emoji: str, neutral: str) -> None:
    assert neutral_emoji(emoji) == neutral
