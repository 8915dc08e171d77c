"""A loopback fake of Discord: the HTTP API routes the bot uses and a gateway.

It runs inside the test's event loop (aiohttp on 127.0.0.1:0) so discord.py's
own HTTP client, gateway code, zlib-stream decompression, view store and
interaction machinery are what the tests exercise. Every HTTP request is
recorded (method, path, query, JSON body, arrival time); gateway payloads are
built from the real examples in ``tests/fixtures/discord`` with ids
adjusted to one consistent guild.

Gateway compression: discord.py always asks for ``compress=zlib-stream`` (or
zstd when a zstd module is installed); the fake implements zlib-stream like
Discord does (one ``zlib.compressobj`` per connection, each payload flushed
with ``Z_SYNC_FLUSH``) so the client's real decompressor is used.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import re
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, WSMsgType, web

from tests.fixtures import ROOT as FIXTURES_ROOT

FIXTURES = FIXTURES_ROOT / "discord"
API_PREFIX = "/api/v10"


def fixture(name: str) -> Any:
    """A fixture file, parsed (a fresh copy each time)."""
    for sub in ("docs_examples", "kord_tests"):
        path = FIXTURES / sub / name
        if path.exists():
            return json.loads(path.read_text())
    raise FileNotFoundError(f"no Discord fixture {name} under {FIXTURES}")


def _json(data: Any, status: int = 200) -> web.Response:
    """JSON with the exact content type Discord sends (discord.py compares the
    header literally, so aiohttp's ``; charset=utf-8`` would make it text)."""
    return web.Response(
        body=json.dumps(data).encode(), status=status, content_type="application/json"
    )


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str  # without the /api/v10 prefix
    query: dict[str, str]
    body: Any
    time: float  # time.monotonic()
    #: (file name, content) of each file in a multipart request (attachments).
    files: tuple[tuple[str, bytes], ...] = ()


@dataclass
class Failure:
    """Answer requests matching ``pattern`` with ``status`` (``count`` times)."""

    method: str
    pattern: re.Pattern[str]
    status: int
    code: int = 0
    count: int = 1


@dataclass
class FakeDiscord:
    app_id: int = 845027738276462632
    bot_user_id: int = 845027738276462632
    guild_id: int = 290926798626357999
    channel_id: int = 345626669114982999
    owner_id: int = 80351110224678912
    #: The bot token the fake accepts (anything else gets 401, like Discord).
    token: str = "fake-bot-token"
    requests: list[Recorded] = field(default_factory=list)
    #: (time.monotonic(), event name, data) of every dispatch sent.
    dispatched: list[tuple[float, str, Any]] = field(default_factory=list)
    identifies: list[Any] = field(default_factory=list)
    heartbeats: int = 0
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    channels: dict[int, dict[str, Any]] = field(default_factory=dict)
    commands: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._ids = itertools.count(1_100_000_000_000_000_000)
        self._sockets: list[tuple[web.WebSocketResponse, Any]] = []
        self._seq = 0
        self._runner: web.AppRunner | None = None
        self._changed = asyncio.Condition()
        #: interaction token -> the message its @original refers to.
        self._token_message: dict[str, int] = {}
        #: Files of the request being routed (see ``_attaching``).
        self._files: list[tuple[str, bytes]] = []
        self.port = 0
        self.channels[self.channel_id] = {
            "id": str(self.channel_id),
            "type": 0,
            "guild_id": str(self.guild_id),
            "name": "reading-group",
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
        }

    # ------------------------------------------------------------ lifecycle
    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    async def start(self) -> FakeDiscord:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._http)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def close(self) -> None:
        for ws, _ in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def next_id(self) -> int:
        return next(self._ids)

    # ------------------------------------------------------------ waiting
    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(
        self, predicate: Callable[[Recorded], bool], *, within: float = 10.0, after: int = 0
    ) -> Recorded:
        """The first recorded request (from index ``after``) matching."""

        def find() -> Recorded | None:
            return next((r for r in self.requests[after:] if predicate(r)), None)

        async def wait() -> Recorded:
            async with self._changed:
                await self._changed.wait_for(lambda: find() is not None)
            found = find()
            assert found is not None
            return found

        try:
            return await asyncio.wait_for(wait(), within)
        except TimeoutError:
            seen = "\n".join(f"  {r.method} {r.path} {str(r.body)[:200]}" for r in self.requests)
            raise AssertionError(f"no matching request within {within}s; saw:\n{seen}") from None

    def find(self, method: str, pattern: str) -> list[Recorded]:
        rx = re.compile(pattern)
        return [r for r in self.requests if r.method == method and rx.fullmatch(r.path)]

    def fail(
        self, method: str, pattern: str, status: int, *, code: int = 0, count: int = 1
    ) -> None:
        self.failures.append(Failure(method, re.compile(pattern), status, code, count))

    # ------------------------------------------------------------ objects
    def bot_user(self) -> dict[str, Any]:
        user = fixture("gateway_event_ready.json")["d"]["user"]
        user.update(id=str(self.bot_user_id), username="readgroup", bot=True, discriminator="0")
        return user

    def user(self, user_id: int, name: str = "Mason") -> dict[str, Any]:
        return {
            "id": str(user_id),
            "username": name,
            "global_name": name,
            "discriminator": "0",
            "avatar": None,
            "public_flags": 0,
        }

    def member(self, user_id: int, name: str = "Mason", *, permissions: int = 0) -> dict[str, Any]:
        m = fixture("interaction_modal_submit_text_input.json")["member"]
        m.update(user=self.user(user_id, name), permissions=str(permissions), roles=[], flags=0)
        return m

    @contextlib.contextmanager
    def _attaching(self, files: list[tuple[str, bytes]]) -> Iterator[None]:
        """The files of the request being routed become the attachments of
        the message it creates or edits."""
        self._files = files
        try:
            yield
        finally:
            self._files = []

    def _attachments(self, channel_id: int) -> list[dict[str, Any]]:
        out = []
        for name, content in self._files:
            aid = str(self.next_id())
            url = f"https://cdn.discordapp.com/attachments/{channel_id}/{aid}/{name}"
            out.append(
                {"id": aid, "filename": name, "size": len(content), "url": url, "proxy_url": url}
            )
        return out

    def _message(self, channel_id: int, body: dict[str, Any], **extra: Any) -> dict[str, Any]:
        msg = fixture("message_object_example.json")
        msg.pop("reactions", None)
        msg.update(
            id=str(self.next_id()),
            channel_id=str(channel_id),
            author=self.bot_user(),
            content=body.get("content") or "",
            embeds=body.get("embeds") or [],
            components=body.get("components") or [],
            flags=body.get("flags") or 0,
            timestamp="2026-11-22T08:00:00.000000+00:00",
            mentions=[],
            attachments=self._attachments(channel_id),
        )
        msg.update(extra)
        self.messages[int(msg["id"])] = msg
        return msg

    def _update(self, message_id: int, body: dict[str, Any]) -> dict[str, Any]:
        msg = self.messages[message_id]
        for key in ("content", "embeds", "components"):
            if key in body:
                msg[key] = body[key] if body[key] is not None else ([] if key != "content" else "")
        if self._files:
            msg["attachments"] = self._attachments(int(msg["channel_id"]))
        msg["edited_timestamp"] = "2026-11-22T08:00:01.000000+00:00"
        return msg

    def _app_info(self) -> dict[str, Any]:
        return {
            "id": str(self.app_id),
            "name": "readgroup",
            "icon": None,
            "description": "",
            "bot_public": False,
            "bot_require_code_grant": False,
            "owner": self.user(self.owner_id, "owner"),
            "verify_key": "0" * 64,
            "flags": 0,
            "team": None,
            "summary": "",
        }

    # ------------------------------------------------------------ HTTP
    async def _http(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        body: Any = None
        files: list[tuple[str, bytes]] = []
        if request.content_type == "multipart/form-data":
            # Messages with attachments: the JSON is the payload_json part.
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                assert isinstance(part, BodyPartReader)
                if part.name == "payload_json":
                    body = json.loads(await part.text())
                elif part.filename:
                    files.append((part.filename, bytes(await part.read())))
        elif request.can_read_body:
            raw = await request.read()
            if raw:
                body = json.loads(raw) if request.content_type == "application/json" else raw
        self.requests.append(
            Recorded(
                request.method, path, dict(request.query), body, time.monotonic(), tuple(files)
            )
        )
        await self._notify()
        if request.headers.get("Authorization") != f"Bot {self.token}" and not path.startswith(
            ("/interactions/", "/webhooks/")
        ):
            return _json({"code": 0, "message": "401: Unauthorized"}, 401)
        for f in self.failures:
            if f.count > 0 and f.method == request.method and f.pattern.fullmatch(path):
                f.count -= 1
                return _json({"code": f.code, "message": f"fake failure {f.status}"}, f.status)
        try:
            with self._attaching(files):
                return self._route(request.method, path, body, request.query)
        except KeyError:
            return _json({"code": 10003, "message": "Unknown Channel"}, 404)

    def _route(self, method: str, path: str, body: Any, query: Any) -> web.StreamResponse:
        ok = _json
        no_content = web.Response(status=204)
        parts = path.strip("/").split("/")
        app = str(self.app_id)
        match method, parts:
            case "GET", ["users", "@me"]:
                return ok(self.bot_user())
            case "GET", ["oauth2", "applications", "@me"]:
                return ok(self._app_info())
            case "GET", ["gateway", "bot"]:
                return ok(
                    {
                        "url": self.gateway_url,
                        "shards": 1,
                        "session_start_limit": {
                            "total": 1000,
                            "remaining": 999,
                            "reset_after": 0,
                            "max_concurrency": 1,
                        },
                    }
                )
            case "GET", ["gateway"]:
                return ok({"url": self.gateway_url})
            case ("PUT", ["applications", a, "commands"]) | (
                "PUT",
                ["applications", a, "guilds", _, "commands"],
            ) if a == app:
                stored = [
                    {**c, "id": str(self.next_id()), "application_id": app, "version": "1"}
                    for c in body
                ]
                self.commands["/".join(parts[2:])] = stored
                return ok(stored)
            case ("GET", ["applications", a, "commands"]) | (
                "GET",
                ["applications", a, "guilds", _, "commands"],
            ) if a == app:
                return ok(self.commands.get("/".join(parts[2:]), []))
            case "POST", ["interactions", iid, token, "callback"]:
                kind = body["type"]
                data = body.get("data") or {}
                message = None
                if kind in (4, 5):
                    message = self._message(self.channel_id, data)
                    self._token_message[token] = int(message["id"])
                elif kind == 7:
                    message = self._update(self._token_message[token], data)
                return ok(
                    {
                        "interaction": {
                            "id": iid,
                            "type": 2,
                            "response_message_id": message["id"] if message else None,
                            "response_message_loading": kind == 5,
                            "response_message_ephemeral": bool((data.get("flags") or 0) & 64),
                        },
                        "resource": {"type": kind, **({"message": message} if message else {})},
                    }
                )
            case "POST", ["webhooks", a, _token] if a == app:
                return ok(self._message(self.channel_id, body, webhook_id=app))
            case "PATCH", ["webhooks", a, token, "messages", mid] if a == app:
                target = self._token_message[token] if mid == "@original" else int(mid)
                return ok(self._update(target, body))
            case ("DELETE", ["webhooks", a, _token, "messages", _mid]) if a == app:
                return no_content
            case "POST", ["channels", cid, "messages"]:
                return ok(self._message(int(cid), body))
            case "PATCH", ["channels", _cid, "messages", mid]:
                return ok(self._update(int(mid), body))
            case "POST", ["channels", cid, "messages", mid, "threads"]:
                thread = self.thread(int(mid), parent_id=int(cid), name=body["name"])
                return ok(thread, 201)
            case "POST", ["users", "@me", "channels"]:
                dm = {
                    "id": str(self.next_id()),
                    "type": 1,
                    "last_message_id": None,
                    "recipients": [self.user(int(body["recipient_id"]))],
                }
                self.channels[int(dm["id"])] = dm
                return ok(dm)
            case "GET", ["channels", cid]:
                return ok(self.channels[int(cid)])
        return _json({"code": 0, "message": f"fake: no route {method} {path}"}, 404)

    def thread(self, thread_id: int, *, parent_id: int, name: str = "discussion") -> dict[str, Any]:
        """A thread channel (from the docs example) registered with the fake."""
        t = fixture("thread_channel_object_example.json")
        t.update(
            id=str(thread_id),
            guild_id=str(self.guild_id),
            parent_id=str(parent_id),
            owner_id=str(self.bot_user_id),
            name=name,
        )
        self.channels[thread_id] = t
        return t

    # ------------------------------------------------------------ gateway
    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        compress = request.query.get("compress")
        if compress not in (None, "zlib-stream"):
            await ws.close(code=4000, message=b"fake supports zlib-stream only")
            return ws
        zctx = zlib.compressobj() if compress else None
        entry = (ws, zctx)
        self._sockets.append(entry)
        try:
            await self._send(entry, fixture("gateway_hello.json"))
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                payload = json.loads(msg.data)
                op = payload.get("op")
                if op == 1:
                    self.heartbeats += 1
                    await self._send(entry, {"op": 11, "d": None})
                elif op == 2:
                    self.identifies.append(payload["d"])
                    await self._send_dispatch(entry, "READY", self._ready())
                    await self._send_dispatch(entry, "GUILD_CREATE", self._guild())
                elif op == 6:
                    await self._send_dispatch(entry, "RESUMED", {})
        finally:
            self._sockets.remove(entry)
        return ws

    async def _send(self, entry: tuple[web.WebSocketResponse, Any], payload: Any) -> None:
        ws, zctx = entry
        data = json.dumps(payload)
        if zctx is None:
            await ws.send_str(data)
        else:
            await ws.send_bytes(zctx.compress(data.encode()) + zctx.flush(zlib.Z_SYNC_FLUSH))

    async def _send_dispatch(self, entry: Any, name: str, data: Any) -> None:
        self._seq += 1
        self.dispatched.append((time.monotonic(), name, data))
        await self._send(entry, {"op": 0, "t": name, "s": self._seq, "d": data})

    def _ready(self) -> dict[str, Any]:
        d = fixture("gateway_event_ready.json")["d"]
        d.update(
            v=10,
            user=self.bot_user(),
            guilds=[{"id": str(self.guild_id), "unavailable": True}],
            session_id="fake-session",
            resume_gateway_url=self.gateway_url,
            application={"id": str(self.app_id), "flags": 0},
            shard=[0, 1],
        )
        return d

    def _guild(self) -> dict[str, Any]:
        g = fixture("guild_object_example.json")
        g.update(fixture("gateway_event_guild_create.json")["d"])
        g.update(
            id=str(self.guild_id),
            name="ML reading group",
            owner_id=str(self.owner_id),
            roles=[
                {
                    "id": str(self.guild_id),
                    "name": "@everyone",
                    "permissions": "1024",
                    "position": 0,
                    "color": 0,
                    "hoist": False,
                    "managed": False,
                    "mentionable": False,
                    "flags": 0,
                }
            ],
            channels=[c for c in self.channels.values() if c.get("type") == 0],
            threads=[],
            members=[],
            member_count=3,
            large=False,
            joined_at="2026-11-01T00:00:00.000000+00:00",
            voice_states=[],
            presences=[],
            stage_instances=[],
            guild_scheduled_events=[],
            unavailable=False,
        )
        return g

    async def dispatch(self, name: str, data: Any) -> float:
        """Send a dispatch to the connected client; returns when it was sent."""
        if not self._sockets:
            raise AssertionError("no client is connected to the fake gateway")
        await self._send_dispatch(self._sockets[-1], name, data)
        return self.dispatched[-1][0]

    # ------------------------------------------------------------ payloads
    def _interaction_base(
        self,
        fixture_name: str,
        *,
        user_id: int,
        name: str,
        permissions: int,
        channel_id: int | None,
    ) -> dict[str, Any]:
        d = fixture(fixture_name)
        cid = channel_id or self.channel_id
        channel = copy.deepcopy(self.channels.get(cid) or self.channels[self.channel_id])
        d.update(
            id=str(self.next_id()),
            token=f"tok-{self.next_id()}",
            application_id=str(self.app_id),
            guild_id=str(self.guild_id),
            channel_id=str(cid),
            channel=channel,
            member=self.member(user_id, name, permissions=permissions),
            version=1,
            app_permissions="442368",
            locale="en-US",
            guild_locale="en-US",
            entitlements=[],
            authorizing_integration_owners={"0": str(self.guild_id)},
            context=0,
            attachment_size_limit=8388608,
        )
        return d

    def slash(
        self,
        command: str,
        options: dict[str, str],
        *,
        user_id: int = 53908232506183680,
        name: str = "Mason",
        permissions: int = 0,
        focused: str | None = None,
        channel_id: int | None = None,
    ) -> dict[str, Any]:
        """An APPLICATION_COMMAND (or, with ``focused``, AUTOCOMPLETE) interaction."""
        d = self._interaction_base(
            "interaction_application_command_slash_with_options.json",
            user_id=user_id,
            name=name,
            permissions=permissions,
            channel_id=channel_id,
        )
        opts = [
            {"type": 3, "name": k, "value": v, **({"focused": True} if k == focused else {})}
            for k, v in options.items()
        ]
        d["data"] = {"id": str(self.next_id()), "name": command, "type": 1, "options": opts}
        if focused is not None:
            d["type"] = 4
        return d

    def button(
        self,
        custom_id: str,
        message: dict[str, Any],
        *,
        user_id: int = 53908232506183680,
        name: str = "Mason",
        permissions: int = 0,
    ) -> dict[str, Any]:
        """A MESSAGE_COMPONENT interaction: a press on a message's button."""
        d = self._interaction_base(
            "interaction_message_component_button_click.json",
            user_id=user_id,
            name=name,
            permissions=permissions,
            channel_id=int(message["channel_id"]),
        )
        d["message"] = message
        d["data"] = {"custom_id": custom_id, "component_type": 2}
        self._token_message[d["token"]] = int(message["id"])
        return d

    def modal_submit(
        self, custom_id: str, values: dict[str, str], *, user_id: int = 53908232506183680
    ) -> dict[str, Any]:
        d = self._interaction_base(
            "interaction_modal_submit_text_input.json",
            user_id=user_id,
            name="Mason",
            permissions=0,
            channel_id=None,
        )
        d["data"] = {
            "custom_id": custom_id,
            "components": [
                {"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]}
                for k, v in values.items()
            ],
        }
        return d

    def user_message(
        self, channel_id: int, content: str, *, user_id: int = 53908099506183680
    ) -> dict[str, Any]:
        """A MESSAGE_CREATE payload from a person (from the docs example)."""
        m = fixture("message_object_example.json")
        m.pop("reactions", None)
        m.update(
            id=str(self.next_id()),
            channel_id=str(channel_id),
            guild_id=str(self.guild_id),
            content=content,
            author=self.user(user_id, "Ada"),
            # MESSAGE_CREATE carries the member without its user (that is "author").
            member={k: v for k, v in self.member(user_id, "Ada").items() if k != "user"},
        )
        return m

    def reaction(
        self, channel_id: int, message_id: int, emoji: str, *, user_id: int = 53908099506183680
    ) -> dict[str, Any]:
        """A MESSAGE_REACTION_ADD payload."""
        return {
            "user_id": str(user_id),
            "channel_id": str(channel_id),
            "message_id": str(message_id),
            "guild_id": str(self.guild_id),
            "member": self.member(user_id, "Ada"),
            "emoji": {"id": None, "name": emoji},
            "burst": False,
            "type": 0,
        }
