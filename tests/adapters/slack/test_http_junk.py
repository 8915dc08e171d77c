"""Junk at ``POST /slack/events`` over real HTTP: unsigned junk is refused
(401) before anything reads it, signed but unreadable or malformed bodies get
400, each with one short log line and never a traceback; nothing is stored
and nothing is posted. A signed command with NUL characters is taken, with the
NULs removed (PostgreSQL cannot store them)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from urllib.parse import urlencode

import pytest
from sqlmodel import func, select

from bot.app import Bot
from storage.groups.tables import Group, Member
from storage.papers.tables import Paper, Proposal
from tests.adapters.slack.conftest import (
    CHANNEL,
    SECRET,
    TEAM,
    SlackHarness,
    command_body,
    sign,
)

FORM = "application/x-www-form-urlencoded"


async def _counts(bot: Bot) -> tuple[int, int, int]:
    def count(*, session):  # type: ignore[no-untyped-def]
        return tuple(
            session.exec(select(func.count()).select_from(t)).one()
            for t in (Group, Member, Proposal)
        )

    return await bot.db(count)


async def _post_raw(
    slack: SlackHarness, raw: bytes, headers: dict[str, str], ctype: str = FORM
) -> tuple[int, str]:
    async with slack.http.post(
        slack.url, data=raw, headers={"Content-Type": ctype, **headers}
    ) as resp:
        return resp.status, await resp.text()


def _sign_bytes(raw: bytes) -> dict[str, str]:
    """Slack's signature over raw bytes (``sign`` takes text)."""
    ts = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), b"v0:" + ts.encode() + b":" + raw, hashlib.sha256)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest.hexdigest()}"}


JUNK: list[tuple[str, bytes, str]] = [
    ("non-UTF-8 bytes", b"\xff\xfe\x00payload=\xc3\x28", FORM),
    ("payload that is not JSON", b"payload=%7Bnot+json", FORM),
    ("invalid JSON", b'{"type": "event_callback", ', "application/json"),
    ("empty body", b"", FORM),
]


@pytest.mark.parametrize(("what", "raw", "ctype"), JUNK, ids=[j[0] for j in JUNK])
async def test_unsigned_junk_is_401_with_one_log_line_and_no_traceback(
    slack: SlackHarness, caplog: pytest.LogCaptureFixture, what: str, raw: bytes, ctype: str
) -> None:
    caplog.set_level(logging.INFO)
    unsigned: dict[str, str] = {}
    bad_ts = {"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=" + "0" * 64}
    forged = {**_sign_bytes(raw), "X-Slack-Signature": "v0=" + "1" * 64}
    for _ in range(20):
        for headers in (unsigned, bad_ts, forged):
            status, _ = await _post_raw(slack, raw, headers, ctype)
            assert status == 401, (what, headers)
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    refused = [r for r in caplog.records if "refused a request" in r.getMessage()]
    assert len(refused) == 60 and len(caplog.records) == 60
    assert all(len(r.getMessage()) < 200 for r in refused)
    assert await _counts(slack.bot) == (0, 0, 0)
    assert not [c for c in slack.fake.calls if c.method != "auth.test"]


@pytest.mark.parametrize(("what", "raw", "ctype"), JUNK, ids=[j[0] for j in JUNK])
async def test_signed_but_unreadable_bodies_are_400_without_traceback(
    slack: SlackHarness, caplog: pytest.LogCaptureFixture, what: str, raw: bytes, ctype: str
) -> None:
    status, text = await _post_raw(slack, raw, _sign_bytes(raw), ctype)
    assert status == 400, what
    assert text and len(text) < 200
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"


async def test_a_timestamp_of_abc_or_a_stale_one_is_401(slack: SlackHarness) -> None:
    body = command_body("propose", "1605.08386", response_url=slack.fake.response_url())
    good = sign(body)
    for ts in ("abc", "-1", "1e9", "١٢٣", "99999999999999999999"):
        status, _, _ = await slack.post(body, headers={**good, "X-Slack-Request-Timestamp": ts})
        assert status == 401, ts
    status, text, _ = await slack.post(body, headers=sign(body, ts=10))
    assert (status, text) == (401, "stale request timestamp (more than 5 minutes off)")


# ---------------------------------------------------------------- item 16
def _command_fields(**changes: str | None) -> str:
    from urllib.parse import parse_qsl

    fields = dict(parse_qsl(command_body("propose", "1605.08386", response_url="http://x/")))
    for key, value in changes.items():
        if value is None:
            fields.pop(key, None)
        else:
            fields[key] = value
    return urlencode(fields)


MALFORMED_COMMANDS = {
    "no user": _command_fields(user_id=None),
    "no team": _command_fields(team_id=None),
    "no channel": _command_fields(channel_id=None),
    "empty channel": _command_fields(channel_id=""),
    "lower-case user": _command_fields(user_id="ualice"),
    "user id of 65 characters": _command_fields(user_id="U" + "A" * 64),
    "team id of 65 characters": _command_fields(team_id="T" + "1" * 64),
    "channel with a NUL": _command_fields(channel_id="C1\x00"),
}


@pytest.mark.parametrize("what", list(MALFORMED_COMMANDS))
async def test_signed_commands_without_valid_ids_are_400_and_store_nothing(
    slack: SlackHarness, caplog: pytest.LogCaptureFixture, what: str
) -> None:
    status, text, _ = await slack.post(MALFORMED_COMMANDS[what])
    assert status == 400, what
    assert "slash command" in text
    await slack.bot.drain(1.0)
    assert await _counts(slack.bot) == (0, 0, 0)
    assert not [c for c in slack.fake.calls if c.method not in {"auth.test"}]
    assert not [r for r in caplog.records if r.exc_info]


def _button(**changes: object) -> dict[str, object]:
    payload: dict[str, object] = {
        "type": "block_actions",
        "user": {"id": "UALICE", "username": "alice", "team_id": TEAM},
        "team": {"id": TEAM},
        "channel": {"id": CHANNEL},
        "container": {"type": "message", "message_ts": "1700000000.000100"},
        "message": {"ts": "1700000000.000100"},
        "actions": [{"action_id": "upvote:1", "value": "1"}],
        "response_url": "http://127.0.0.1:1/none",
        "trigger_id": "1.2.3",
    }
    payload.update(changes)
    return payload


MALFORMED_PAYLOADS = {
    "payload=[]": [],
    'payload="str"': "str",
    "payload=null": None,
    "payload=42": 42,
    "actions=[{}]": _button(actions=[{}]),
    "actions=[]": _button(actions=[]),
    "actions as a string": _button(actions="upvote"),
    "no user": _button(user=None),
    "user as a list": _button(user=["UALICE"]),
    "no channel": _button(channel=None, container={}),
    "no team": _button(team=None, user={"id": "UALICE"}),
    "view_submission without a view": {"type": "view_submission", "user": {"id": "UALICE"}},
    "event_callback with a list event": {"type": "event_callback", "event": []},
    "no type at all": {"user": {"id": "UALICE"}},
}


@pytest.mark.parametrize("what", list(MALFORMED_PAYLOADS))
async def test_signed_malformed_interactive_payloads_are_400_and_store_nothing(
    slack: SlackHarness, caplog: pytest.LogCaptureFixture, what: str
) -> None:
    caplog.set_level(logging.INFO)
    body = urlencode({"payload": json.dumps(MALFORMED_PAYLOADS[what])})
    status, text, _ = await slack.post(body)
    assert status == 400, what
    assert text and len(text) < 300
    await slack.bot.drain(1.0)
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 1
    assert await _counts(slack.bot) == (0, 0, 0)
    assert not [c for c in slack.fake.calls if c.method != "auth.test"]


async def test_a_signed_malformed_event_envelope_is_400(slack: SlackHarness) -> None:
    for body in ([], {"type": "event_callback", "event": "x"}, {"type": "event_callback"}):
        raw = json.dumps(body)
        status, _, _ = await slack.post(raw, headers=sign(raw), form=False)
        assert status == 400, body


async def test_nul_characters_in_a_command_are_removed_and_the_proposal_is_saved(
    slack: SlackHarness,
) -> None:
    """On PostgreSQL a NUL used to fail the transaction ("Something went wrong")."""
    body = command_body(
        "propose", "1605.08386 good\x00 one\x00", response_url=slack.fake.response_url()
    )
    status, _, _ = await slack.post(body)
    assert status == 200
    await slack.fake.wait_for(
        lambda calls: [c for c in calls if c.method == "chat.postMessage"], within=15
    )

    def why(*, session):  # type: ignore[no-untyped-def]
        proposal = session.exec(select(Proposal)).one()
        paper = session.exec(select(Paper)).one()
        return proposal.why, paper.arxiv_id

    assert await slack.bot.db(why) == ("good one", "1605.08386")


async def test_slacks_signed_ssl_check_is_still_answered(slack: SlackHarness) -> None:
    status, _, _ = await slack.post("ssl_check=1&token=x")
    assert status == 200


async def test_a_command_whose_text_says_payload_is_still_a_command(slack: SlackHarness) -> None:
    """Bolt reads any form containing the word "payload" as an interactive
    payload ({}), which lost such a /propose (400, or nothing stored)."""
    body = command_body(
        "propose", "1605.08386 the payload matters", response_url=slack.fake.response_url()
    )
    status, _, _ = await slack.post(body)
    assert status == 200
    await slack.fake.wait_for(
        lambda calls: [c for c in calls if c.method == "chat.postMessage"], within=15
    )

    def why(*, session):  # type: ignore[no-untyped-def]
        return session.exec(select(Proposal)).one().why

    assert await slack.bot.db(why) == "the payload matters"
