"""The Slack adapter hands the core neutral text: channel mentions as
``#<id>`` and reactions as emoji characters."""

from __future__ import annotations

import pytest

from adapters.slack.inbound import command, neutral_command_text, neutral_emoji


@pytest.mark.parametrize(
    ("text", "neutral"),
    [
        ("channel <#C0009|papers>", "channel #C0009"),
        ("channel <#C0009>", "channel #C0009"),
        ("channel #papers", "channel #papers"),
        ("organizers <@U1|ann> <@U2>", "organizers <@U1|ann> <@U2>"),
    ],
)
def test_channel_mentions_reach_the_core_as_hash_and_id(text: str, neutral: str) -> None:
    assert neutral_command_text(text) == neutral


def test_a_slash_commands_text_is_neutral() -> None:
    body = {
        "command": "/readgroup",
        "text": "config channel <#C0009|papers>",
        "user_id": "U1",
        "user_name": "ann",
        "team_id": "T1",
        "channel_id": "C0001",
    }
    cmd = command(body)
    assert cmd is not None and cmd.text == "config channel #C0009"


@pytest.mark.parametrize(
    ("name", "neutral"),
    [
        ("bulb", "💡"),
        (":bulb:", "💡"),
        ("+1::skin-tone-3", "👍"),
        ("partyparrot", ":partyparrot:"),
    ],
)
def test_reaction_names_reach_the_core_as_characters(name: str, neutral: str) -> None:
    assert neutral_emoji(name) == neutral
