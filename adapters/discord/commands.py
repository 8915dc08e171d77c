"""Application commands built from ``router.commands`` and kept in sync.

Why raw payloads and not ``app_commands.CommandTree``: the tree derives each
command's options from a Python function's signature, while our options are
data (``Option``s on the router, shared with Slack and the console). So we
build the same JSON the tree would send, PUT it with discord.py's own
``HTTPClient.bulk_upsert_*_commands`` and dispatch interactions ourselves.

When to sync: with DISCORD_GUILD_ID the commands go to that guild on every
start (guild commands update instantly and are cheap). Otherwise they are
global: updates take a while to reach clients and creating commands is rate
limited per day, so we PUT only when the payload changed. The SHA-256 of the
payload is kept per application in a small state file (``sync_state``); a lost
file only costs one extra, harmless sync.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.chat.router import CommandSpec, Option

if TYPE_CHECKING:
    import discord

log = logging.getLogger(__name__)

STRING = 3
CHAT_INPUT = 1
GUILD_CONTEXT = 0
DESCRIPTION_MAX = 100
CHOICES_MAX = 25


def _option(opt: Option) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type": STRING,
        "name": opt.name,
        "description": opt.description[:DESCRIPTION_MAX] or opt.name,
        "required": opt.required,
    }
    if opt.choices:
        data["choices"] = [{"name": c[:100], "value": c[:100]} for c in opt.choices[:CHOICES_MAX]]
    elif opt.autocomplete:
        data["autocomplete"] = True
    return data


def command_payload(spec: CommandSpec) -> dict[str, Any]:
    # Discord wants required options before optional ones; the text we build
    # for the core keeps the router's order regardless.
    options = sorted(spec.options, key=lambda o: not o.required)
    return {
        "type": CHAT_INPUT,
        "name": spec.name,
        "description": spec.summary[:DESCRIPTION_MAX] or spec.name,
        "options": [_option(o) for o in options],
        "contexts": [GUILD_CONTEXT],
    }


def commands_payload(commands: dict[str, CommandSpec]) -> list[dict[str, Any]]:
    return [command_payload(commands[name]) for name in sorted(commands)]


def payload_hash(payload: list[dict[str, Any]]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def default_sync_state() -> Path:
    return Path.cwd() / ".readgroup" / "discord-commands.json"


def _read_state(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_state(path: Path, state: dict[str, str]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(state, indent=1))
    except OSError as exc:  # the next start syncs again; nothing is lost
        log.warning("could not remember the command hash in %s: %s", path, exc)


async def sync_commands(
    client: discord.Client,
    commands: dict[str, CommandSpec],
    *,
    guild_id: str | None,
    sync_state: Path,
) -> str:
    """Register the command set; returns what was done ("guild", "global",
    "unchanged") for logs and tests."""
    app_id = client.application_id
    assert app_id is not None, "sync_commands runs after login (setup_hook)"
    payload = commands_payload(commands)
    if guild_id:
        await client.http.bulk_upsert_guild_commands(app_id, int(guild_id), payload)
        log.info("synced %d commands to guild %s", len(payload), guild_id)
        return "guild"
    digest = payload_hash(payload)
    state = await asyncio.to_thread(_read_state, sync_state)
    if state.get(str(app_id)) == digest:
        log.info("global commands unchanged; not syncing")
        return "unchanged"
    await client.http.bulk_upsert_global_commands(app_id, payload)
    state[str(app_id)] = digest
    await asyncio.to_thread(_write_state, sync_state, state)
    log.info("synced %d global commands", len(payload))
    return "global"
