"""Discord interactions outside a guild are direct messages: the core lets
only the nudge's button act there (see bot.places)."""

from __future__ import annotations

from adapters.discord.inbound import DM_WORKSPACE, place_for


def test_a_place_without_a_guild_is_a_direct_message() -> None:
    dm = place_for(None, 42, message_id=7)
    assert dm.direct and dm.workspace == DM_WORKSPACE
    channel = place_for(1234, 42)
    assert not channel.direct and channel.workspace == "1234"
    thread = place_for(1234, 43, parent_id=42)
    assert not thread.direct and thread.channel == "42" and thread.thread == "43"
