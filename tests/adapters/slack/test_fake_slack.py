"""The fake's spec check can fail: it flags unknown methods and missing
required arguments (so the other tests' clean checks mean something)."""

from __future__ import annotations

from tests.fakes.slack_api import Call, spec_problems

AUTH = {"Authorization": "Bearer xoxb-1"}


def test_spec_check_flags_unknown_methods_and_missing_arguments() -> None:
    calls = [
        Call("chat.postMessage", "/api/chat.postMessage", AUTH, {"text": "hi"}, ""),
        Call("chat.update", "/api/chat.update", AUTH, {"channel": "C1", "ts": "1.2"}, ""),
        Call("chat.postMesage", "/api/chat.postMesage", AUTH, {"channel": "C1"}, ""),
        Call("views.open", "/api/views.open", {}, {"trigger_id": "t", "view": {}}, ""),
        Call("apps.connections.open", "/api/apps.connections.open", {}, {}, ""),
    ]
    assert spec_problems(calls) == [
        "chat.postMessage: required argument 'channel' missing",
        "chat.postMesage: not a Slack Web API method",
        "views.open: required argument 'token' missing",
        "apps.connections.open: no token",
    ]
