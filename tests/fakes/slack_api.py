"""A loopback fake of the Slack Web API (plus ``response_url`` endpoints and,
through :mod:`tests.fakes.slack_socket`, a Socket Mode websocket).

It records every request (method, headers, arguments from the query string,
form or JSON body) so tests assert on what the adapter actually sent, answers
``ok: true`` with plausible bodies, and can be told to misbehave: HTTP 429
``ratelimited`` with Retry-After N times, or any Slack error code, or take a
call and answer it only after a pause (the window in which a killed client
never learns that Slack took its message).
:func:`spec_problems` checks recorded calls against Slack's OpenAPI spec.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from tests.fixtures import ROOT as FIXTURES_ROOT

SPEC_PATH = FIXTURES_ROOT / "slack" / "specs" / "slack_web_openapi_v2.json"
#: Newer than the v2 spec (2019) and so missing from it; checked by hand below
#: (the token, and these required arguments).
NOT_IN_SPEC: dict[str, tuple[str, ...]] = {
    "apps.connections.open": (),
    "files.getUploadURLExternal": ("filename", "length"),
    "files.completeUploadExternal": ("files",),
}


@dataclass(frozen=True)
class Call:
    """One request the fake received."""

    method: str  # Web API method ("chat.postMessage") or "response_url"
    path: str
    headers: dict[str, str]
    args: dict[str, Any]  # query + form + JSON, JSON-looking strings decoded
    raw: str
    at: float = field(default_factory=time.monotonic)

    @property
    def blocks(self) -> list[dict[str, Any]]:
        value = self.args.get("blocks") or []
        return value if isinstance(value, list) else []


@dataclass
class _Failure:
    error: str
    count: int
    status: int = 200
    retry_after: int = 0


class FakeSlack:
    """Fake ``https://slack.com/api/`` on 127.0.0.1 (start inside the test's loop)."""

    def __init__(
        self,
        *,
        team_id: str = "T111",
        bot_user_id: str = "UBOT",
        bot_id: str = "BBOT",
        admins: Iterable[str] = (),
        owners: Iterable[str] = (),
    ) -> None:
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.admins = set(admins)
        self.owners = set(owners)
        self.calls: list[Call] = []
        self._failures: dict[str, list[_Failure]] = {}
        self._slow: dict[str, list[list[float]]] = {}  # method -> [[seconds, count], ...]
        self._ts = itertools.count(1)
        #: Messages posted, by channel, for conversations.history.
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.web_app = web.Application()
        self.web_app.router.add_route("*", "/api/{method}", self._api)
        self.web_app.router.add_post("/response/{name}", self._response_url)
        self.web_app.router.add_post("/upload/{file_id}", self._upload)
        #: file id -> {"filename", "length", "content" (bytes, once sent), "completed"}.
        self.files: dict[str, dict[str, Any]] = {}
        self._changed = asyncio.Condition()
        self.socket: Any = None  # a SocketModeServer once attached

    # -- lifecycle ---------------------------------------------------------
    async def start(self) -> FakeSlack:
        self._runner = web.AppRunner(self.web_app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self.socket is not None:
            await self.socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeSlack:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """What to set SLACK_API_URL to."""
        return f"{self.base}/api/"

    def response_url(self, name: str = "r1") -> str:
        """A response_url on the fake; names starting with "expired" answer 404."""
        return f"{self.base}/response/{name}"

    # -- knobs -------------------------------------------------------------
    def fail(self, method: str, error: str, *, count: int = 1) -> None:
        """Answer ``method`` with ``ok: false, error`` the next ``count`` times."""
        self._failures.setdefault(method, []).append(_Failure(error, count))

    def ratelimit(self, method: str, *, count: int = 1, retry_after: int = 1) -> None:
        """Answer HTTP 429 ``ratelimited`` with Retry-After the next ``count`` times."""
        self._failures.setdefault(method, []).append(
            _Failure("ratelimited", count, status=429, retry_after=retry_after)
        )

    def slow(self, method: str, *, seconds: float, count: int = 1) -> None:
        """Carry out ``method`` at once but answer it ``seconds`` later, the
        next ``count`` times (a kill in between: taken, never acknowledged)."""
        self._slow.setdefault(method, []).append([seconds, count])

    # -- queries -----------------------------------------------------------
    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(
        self, predicate: Callable[[list[Call]], Any], *, within: float = 10.0
    ) -> Any:
        """Wait until ``predicate(calls)`` is truthy; returns its value."""
        async with self._changed:
            result = predicate(self.calls)
            deadline = time.monotonic() + within
            while not result:
                left = deadline - time.monotonic()
                if left <= 0:
                    names = [c.method for c in self.calls]
                    raise AssertionError(f"timed out; calls so far: {names}")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), left)
                result = predicate(self.calls)
            return result

    async def wait_calls(self, method: str, n: int = 1, *, within: float = 10.0) -> list[Call]:
        return await self.wait_for(
            lambda calls: (found := [c for c in calls if c.method == method])[n - 1 : n] and found,
            within=within,
        )

    # -- handlers ----------------------------------------------------------
    async def _record(self, call: Call) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        raw = await request.text()
        args: dict[str, Any] = dict(request.query)
        ctype = request.headers.get("Content-Type", "")
        if raw and "json" in ctype:
            args.update(json.loads(raw))
        elif raw:
            args.update(dict(parse_qsl(raw, keep_blank_values=True)))
        for key in ("blocks", "view", "attachments", "files", "metadata"):
            if isinstance(args.get(key), str) and args[key][:1] in "[{":
                args[key] = json.loads(args[key])
        await self._record(Call(method, request.path, dict(request.headers), args, raw))
        queue = self._failures.get(method) or []
        if queue:
            failure = queue[0]
            failure.count -= 1
            if failure.count <= 0:
                queue.pop(0)
            headers = {"Retry-After": str(failure.retry_after)} if failure.status == 429 else {}
            return web.json_response(
                {"ok": False, "error": failure.error}, status=failure.status, headers=headers
            )
        answer = {"ok": True, **self._answer(method, args)}
        slow = self._slow.get(method) or []
        if slow:
            seconds = slow[0][0]
            slow[0][1] -= 1
            if slow[0][1] <= 0:
                slow.pop(0)
            await asyncio.sleep(seconds)
        return web.json_response(answer)

    def _next_ts(self) -> str:
        return f"1700000000.{next(self._ts):06d}"

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        match method:
            case "auth.test":
                return {
                    "url": "https://fake.slack.com/",
                    "team": "Fake",
                    "user": "readgroup",
                    "team_id": self.team_id,
                    "user_id": self.bot_user_id,
                    "bot_id": self.bot_id,
                    "is_enterprise_install": False,
                }
            case "chat.postMessage":
                ts = self._next_ts()
                message = {"type": "message", "ts": ts, "bot_id": self.bot_id}
                message.update({k: args[k] for k in ("text", "blocks") if k in args})
                if not args.get("thread_ts"):
                    kept = {**message, "metadata": args.get("metadata"), "_at": time.time()}
                    self.messages.setdefault(str(args.get("channel")), []).append(kept)
                return {"channel": args.get("channel"), "ts": ts, "message": message}
            case "conversations.history":
                # The fake's ts are not times, so ``oldest`` is compared with
                # when each message arrived (for Slack the two are the same).
                oldest = float(args.get("oldest") or 0)
                full = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
                found = [
                    {k: v for k, v in m.items() if k != "_at" and (full or k != "metadata")}
                    for m in reversed(self.messages.get(str(args.get("channel")), []))
                    if m["_at"] >= oldest
                ]
                return {"messages": found, "has_more": False}
            case "chat.update":
                return {"channel": args.get("channel"), "ts": args.get("ts"), "text": ""}
            case "chat.postEphemeral":
                return {"message_ts": self._next_ts()}
            case "conversations.open":
                return {"channel": {"id": "D" + str(args.get("users", "X")).split(",")[0]}}
            case "users.info":
                uid = str(args.get("user", ""))
                return {
                    "user": {
                        "id": uid,
                        "team_id": self.team_id,
                        "name": uid.lower(),
                        "real_name": f"Real {uid}",
                        "is_admin": uid in self.admins or uid in self.owners,
                        "is_owner": uid in self.owners,
                        "is_bot": False,
                        "profile": {"display_name": f"name-{uid.lower()}"},
                    }
                }
            case "views.open" | "views.publish" | "views.update":
                return {"view": {"id": "V" + self._next_ts().replace(".", ""), **args["view"]}}
            case "files.getUploadURLExternal":
                file_id = "F" + self._next_ts().replace(".", "")
                self.files[file_id] = {
                    "filename": args.get("filename"),
                    "length": int(args.get("length") or 0),
                    "content": None,
                    "completed": None,
                }
                return {"file_id": file_id, "upload_url": f"{self.base}/upload/{file_id}"}
            case "files.completeUploadExternal":
                done = []
                for f in args.get("files") or []:
                    stored = self.files.get(str(f.get("id")))
                    if stored is None or stored["content"] is None:
                        return {"ok": False, "error": "file_not_found"}
                    stored["completed"] = {**args, "title": f.get("title")}
                    name, title = stored["filename"], f.get("title")
                    done.append({"id": f["id"], "name": name, "title": title})
                return {"files": done}
            case "apps.connections.open":
                if self.socket is None:
                    raise web.HTTPNotFound(text="no Socket Mode server attached")
                return {"url": self.socket.url}
        return {}

    async def _upload(self, request: web.Request) -> web.Response:
        """Step 2 of files upload v2: the file's bytes, POSTed to the upload URL."""
        file_id = request.match_info["file_id"]
        data = await request.read()
        raw = data.decode("utf-8", "replace")
        args = {"file_id": file_id, "content": data}
        await self._record(Call("file_upload", request.path, dict(request.headers), args, raw))
        stored = self.files.get(file_id)
        if stored is None:
            return web.Response(status=404, text="unknown upload url")
        stored["content"] = data
        return web.Response(text=f"OK - {len(data)}")

    async def _response_url(self, request: web.Request) -> web.Response:
        raw = await request.text()
        args = json.loads(raw) if raw else {}
        await self._record(Call("response_url", request.path, dict(request.headers), args, raw))
        if request.match_info["name"].startswith("expired"):
            # Slack's answer once a response_url is past 30 minutes or 5 uses.
            return web.Response(status=404, text="expired_url")
        return web.Response(text="ok")


# ------------------------------------------------------------ spec checks
_spec_cache: dict[str, Any] | None = None


def _spec() -> dict[str, Any]:
    global _spec_cache
    if _spec_cache is None:
        _spec_cache = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    return _spec_cache


def spec_problems(calls: Iterable[Call]) -> list[str]:
    """Every Web API call checked against Slack's OpenAPI spec: the method
    exists and its required arguments are present (a token in the
    Authorization header counts for ``token``)."""
    problems: list[str] = []
    paths = _spec()["paths"]
    for call in calls:
        if call.method in ("response_url", "file_upload"):
            continue
        has_token = call.headers.get("Authorization", "").startswith("Bearer x")
        if call.method in NOT_IN_SPEC:
            if not has_token:
                problems.append(f"{call.method}: no token")
            for name in NOT_IN_SPEC[call.method]:
                if name not in call.args:
                    problems.append(f"{call.method}: required argument {name!r} missing")
            continue
        ops = paths.get(f"/{call.method}")
        if not ops:
            problems.append(f"{call.method}: not a Slack Web API method")
            continue
        for op in ops.values():
            for param in op.get("parameters", []):
                if not param.get("required"):
                    continue
                name = param["name"]
                if name == "token" and (has_token or call.args.get("token")):
                    continue
                if name not in call.args:
                    problems.append(f"{call.method}: required argument {name!r} missing")
    return problems
