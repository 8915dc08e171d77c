"""The app manifest (from the router, checked in, printed by the CLI) and the
start-up checks of `readgroup serve slack`."""

from __future__ import annotations

import asyncio

import pytest
import yaml

from adapters.cli import main
from adapters.slack.manifest import CHECKED_IN, build_manifest, manifest_yaml
from adapters.slack.serve import run_slack, serve_slack
from bot.app import Bot, build_router
from bot.infra.settings import Settings, SettingsError
from tests.fakes.slack_api import FakeSlack


def test_checked_in_manifest_is_the_generated_one() -> None:
    assert CHECKED_IN.read_text(encoding="utf-8") == manifest_yaml(), (
        "adapters/slack/manifest.yaml is stale: run "
        "`readgroup slack-manifest > adapters/slack/manifest.yaml`"
    )


def test_manifest_has_every_command_scope_event_home_and_interactivity() -> None:
    router = build_router()
    m = build_manifest(router)
    commands = {c["command"]: c for c in m["features"]["slash_commands"]}
    assert set(commands) == {f"/{name}" for name in router.commands}
    assert commands["/propose"]["usage_hint"] == "<paper> [why]"
    assert all(c["url"].endswith("/slack/events") for c in commands.values())
    assert all(len(c["description"]) <= 100 for c in commands.values())
    scopes = set(m["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "im:write", "users:read", "reactions:read"} <= scopes
    events = set(m["settings"]["event_subscriptions"]["bot_events"])
    assert {"app_home_opened", "message.channels", "reaction_added", "reaction_removed"} <= events
    assert m["features"]["app_home"]["home_tab_enabled"] is True
    assert m["settings"]["interactivity"]["is_enabled"] is True
    socket = build_manifest(router, socket=True)
    assert socket["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in socket["settings"]["event_subscriptions"]
    assert all("url" not in c for c in socket["features"]["slash_commands"])


def test_cli_prints_the_manifest_as_yaml(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["slack-manifest", "--url", "https://rg.example.org/slack/events"]) == 0
    out = capsys.readouterr().out
    m = yaml.safe_load(out)
    assert m["settings"]["event_subscriptions"]["request_url"] == (
        "https://rg.example.org/slack/events"
    )


@pytest.mark.parametrize(
    ("socket", "env", "missing"),
    [
        (False, {}, "SLACK_BOT_TOKEN"),
        (False, {"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET"),
        (True, {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}, "SLACK_APP_TOKEN"),
    ],
)
def test_serve_stops_naming_the_missing_setting_and_where_to_get_it(
    socket: bool, env: dict[str, str], missing: str
) -> None:
    settings = Settings(_env_file=None, **env)  # type: ignore[call-arg,arg-type]
    with pytest.raises(SettingsError, match=missing) as info:
        serve_slack(settings, socket=socket, port=0)
    assert "api.slack.com/apps" in str(info.value)


async def test_a_rejected_bot_token_stops_start_up_with_a_clear_message(
    bot: Bot, slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    fake_slack.fail("auth.test", "invalid_auth")
    with pytest.raises(SettingsError, match=r"rejected SLACK_BOT_TOKEN \(invalid_auth\)"):
        await run_slack(slack_settings, socket=False, port=0, host="127.0.0.1", bot=bot)


async def test_socket_mode_serves_until_stopped(
    bot: Bot, slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    stop = asyncio.Event()
    task = asyncio.ensure_future(run_slack(slack_settings, socket=True, port=0, bot=bot, stop=stop))
    await fake_slack.socket.connected(within=10)
    assert [c.method for c in fake_slack.calls] == ["auth.test", "apps.connections.open"]
    stop.set()
    await asyncio.wait_for(task, 10)


async def test_the_real_process_settles_its_heap_before_serving(
    bot: Bot, slack_settings: Settings, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`readgroup serve slack` freezes what start-up built out of the garbage
    collector's way before it serves (a full collection over it stopped the
    loop for 240 ms under load); a test process does not (its objects would
    never be freed)."""
    from adapters.slack import serve

    frozen: list[int] = []
    monkeypatch.setattr(serve.gc, "freeze", lambda: frozen.append(1))
    for settle in (False, True):
        stop = asyncio.Event()
        task = asyncio.ensure_future(
            run_slack(slack_settings, socket=True, port=0, bot=bot, stop=stop, settle=settle)
        )
        await fake_slack.socket.connected(within=10)
        stop.set()
        await asyncio.wait_for(task, 10)
        assert len(frozen) == int(settle)


def test_serve_slack_settles_the_heap(
    slack_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from adapters.slack import serve

    ran: list[bool] = []

    async def fake_run(*_args: object, settle: bool = False, **_kwargs: object) -> None:
        ran.append(settle)

    monkeypatch.setattr(serve, "run_slack", fake_run)
    monkeypatch.setattr(serve.sys, "setswitchinterval", lambda _seconds: None)
    assert serve.serve_slack(slack_settings, socket=False, port=0) == 0
    assert ran == [True]
