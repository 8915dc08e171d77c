"""Is this request to ``/slack/events`` from Slack? Answered before anything
reads the body.

Slack signs every HTTP request: ``X-Slack-Signature`` is ``v0=`` plus the
HMAC-SHA256 of ``v0:{X-Slack-Request-Timestamp}:{raw body}`` under the app's
signing secret. Bolt checks this too, but only after it has decoded and parsed
the body, so junk from anyone (non-UTF-8 bytes, a ``payload=`` that is not
JSON, a timestamp of ``abc``) used to raise inside Bolt and log a traceback per
request. Here the signature is checked first, on the raw bytes, and a request
that fails is answered 401 with one short log line; a signed body that cannot
be read is answered 400.

Kept apart from the HTTP handler (:mod:`adapters.slack.serve`) so other steps
(a durable inbox, say) can run after :func:`check_signature` and
:func:`read_body` without touching them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from slack_sdk.signature import Clock, SignatureVerifier

#: Slack's own rule: a request older (or newer) than five minutes is a replay.
MAX_AGE_SECONDS = 5 * 60
TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
SIGNATURE_HEADER = "X-Slack-Signature"


@dataclass(frozen=True)
class Rejection:
    """Why a request is refused: the HTTP status and a short reason (for the
    response and one log line; it never quotes the body)."""

    status: int
    reason: str


@dataclass(frozen=True)
class ReadBody:
    """A signed body, decoded (``text``) and parsed the way Bolt parses it."""

    text: str
    body: dict[str, Any]


class RawBodyVerifier(SignatureVerifier):
    """slack_sdk's verifier, signing the raw bytes as they arrived.

    The stock ``generate_signature`` decodes a ``bytes`` body as UTF-8 first,
    which raises on bytes that are not; Slack signs bytes, so do we.
    """

    def generate_signature(self, *, timestamp: str, body: str | bytes) -> str | None:
        if timestamp is None:
            return None
        raw = body.encode("utf-8") if isinstance(body, str) else (body or b"")
        message = b"v0:" + timestamp.encode("ascii") + b":" + raw
        digest = hmac.new(self.signing_secret.encode("utf-8"), message, hashlib.sha256)
        return f"v0={digest.hexdigest()}"


def make_verifier(signing_secret: str, clock: Clock | None = None) -> RawBodyVerifier:
    return RawBodyVerifier(signing_secret, clock or Clock())


def check_signature(
    *, body: bytes, headers: Mapping[str, str], verifier: SignatureVerifier
) -> Rejection | None:
    """None when ``body`` carries a valid, fresh Slack signature, else a 401."""
    timestamp = headers.get(TIMESTAMP_HEADER)
    signature = headers.get(SIGNATURE_HEADER)
    if not timestamp or not signature:
        return Rejection(401, "unsigned request (no Slack signature headers)")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return Rejection(401, "bad request timestamp (not a number of seconds)")
    if abs(verifier.clock.now() - int(timestamp)) > MAX_AGE_SECONDS:
        return Rejection(401, "stale request timestamp (more than 5 minutes off)")
    if not signature.isascii() or not verifier.is_valid(body, timestamp, signature):
        return Rejection(401, "invalid Slack signature")
    return None


def read_body(body: bytes, content_type: str | None) -> ReadBody | Rejection:
    """A signed body as text and as the dict Bolt will see, or a 400.

    Like ``slack_bolt.request.internals.parse_body`` (JSON when the content
    type says so or the body starts with ``{``; else a form, whose
    ``payload`` field, when present, is JSON), except that Bolt takes any form
    whose text merely contains the word "payload" (``/propose 2401.00001 the
    payload matters``) for an interactive one and reads it as ``{}``; here
    only a ``payload`` field counts, and :func:`adapters.slack.serve` hands
    Bolt this dict so the listeners get what was checked.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return Rejection(400, "body is not UTF-8")
    if not text:
        return Rejection(400, "empty body")
    try:
        if content_type == "application/json" or text.startswith("{"):
            parsed: Any = json.loads(text)
        else:
            form = dict(parse_qsl(text, keep_blank_values=True))
            parsed = json.loads(form["payload"]) if "payload" in form else form
    except ValueError:
        return Rejection(400, "body is not valid JSON")
    if not isinstance(parsed, dict):
        return Rejection(400, f"body is a JSON {type(parsed).__name__}, not an object")
    return ReadBody(text, parsed)
