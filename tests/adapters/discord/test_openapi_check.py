"""The spec checker used on every recorded request must itself catch mistakes."""

from __future__ import annotations

from tests.fakes.discord_openapi import problems, template_for


def test_routes_match_templates_with_literal_segments_first() -> None:
    assert template_for("GET", "/users/@me") == "/users/@me"
    assert template_for("POST", "/interactions/1/tok/callback") == (
        "/interactions/{interaction_id}/{interaction_token}/callback"
    )
    assert template_for("PATCH", "/webhooks/1/tok/messages/@original") == (
        "/webhooks/{webhook_id}/{webhook_token}/messages/@original"
    )
    assert template_for("DELETE", "/users/@me") is None


def test_unknown_routes_and_fields_are_reported() -> None:
    assert problems("GET", "/nope/1", None)
    assert problems("POST", "/channels/1/messages", {"content": "x", "contnet": "typo"}) == [
        "POST /channels/{channel_id}/messages: fields not in the spec: ['contnet']"
    ]
    nested = problems("POST", "/channels/1/messages", {"embeds": [{"title": "t", "colour": 1}]})
    assert nested and "colour" in nested[0]
    bad_callback = {"type": 4, "data": {"content": "x", "ephemeral": True}}
    assert problems("POST", "/interactions/1/t/callback", bad_callback)


def test_well_formed_bodies_pass() -> None:
    assert problems("POST", "/channels/1/messages", {"content": "x", "allowed_mentions": {}}) == []
    assert problems("POST", "/interactions/1/t/callback", {"type": 5, "data": {"flags": 64}}) == []
    commands = [{"name": "queue", "description": "d", "type": 1, "options": []}]
    assert problems("PUT", "/applications/1/guilds/2/commands", commands) == []
