"""Small helpers shared by the Discord adapter tests."""

from __future__ import annotations

from typing import Any

from tests.fakes.discord_fake import FakeDiscord, Recorded
from tests.fakes.discord_openapi import assert_all_match_spec

ZWSP = "\u200b"


async def interact(fake: FakeDiscord, payload: dict[str, Any]) -> tuple[float, Recorded]:
    """Inject an INTERACTION_CREATE; returns (sent at, the callback request)."""
    after = len(fake.requests)
    sent = await fake.dispatch("INTERACTION_CREATE", payload)
    callback = await fake.wait_for(
        lambda r: (
            r.method == "POST"
            and r.path == f"/interactions/{payload['id']}/{payload['token']}/callback"
        ),
        after=after,
    )
    return sent, callback


def webhook_path(fake: FakeDiscord, payload: dict[str, Any]) -> str:
    return f"/webhooks/{fake.app_id}/{payload['token']}"


async def first_answer(fake: FakeDiscord, payload: dict[str, Any], after: int = 0) -> Recorded:
    """The request that carries the first real answer after a deferral: an
    edit of the deferred message or a follow-up."""
    base = webhook_path(fake, payload)
    return await fake.wait_for(
        lambda r: (
            (r.method == "PATCH" and r.path == base + "/messages/@original")
            or (r.method == "POST" and r.path == base)
        ),
        after=after,
    )


def all_strings(obj: Any) -> list[str]:
    """Every string inside a JSON body (to look for leaks anywhere)."""
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in all_strings(v)]
    if isinstance(obj, list):
        return [s for v in obj for s in all_strings(v)]
    return []


def body_text(body: dict[str, Any]) -> str:
    """Content plus every embed's title, description and fields."""
    parts = [body.get("content") or ""]
    for e in body.get("embeds") or []:
        parts += [e.get("title") or "", e.get("description") or ""]
        parts += [f"{f['name']} {f['value']}" for f in e.get("fields") or []]
    return "\n".join(parts)


def custom_ids(body: dict[str, Any]) -> list[str]:
    return [
        c["custom_id"]
        for row in body.get("components") or []
        for c in row.get("components") or []
        if "custom_id" in c
    ]


def assert_no_message_can_ping(requests: list[Recorded]) -> int:
    """Every request that sends or edits a message's text carries
    allowed_mentions that allow no mass or role pings; returns how many."""
    checked = 0
    for r in requests:
        body = r.body if isinstance(r.body, dict) else {}
        if r.path.endswith("/callback"):
            body = body.get("data") or {}
        if not ({"content", "embeds"} & set(body)) or r.method == "PUT":
            continue
        mentions = body.get("allowed_mentions")
        assert mentions is not None, f"{r.method} {r.path} has no allowed_mentions"
        assert mentions.get("parse") == [], f"{r.method} {r.path}: {mentions}"
        assert not mentions.get("roles") and not mentions.get("replied_user")
        checked += 1
    return checked


def check_all(fake: FakeDiscord) -> None:
    """Run on every test's recorded traffic: each request is a route of the
    Discord spec with known fields, and no message could ping anyone en masse."""
    assert_all_match_spec(fake.requests)
    assert_no_message_can_ping(fake.requests)
