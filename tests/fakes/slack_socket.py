"""A fake Socket Mode server on the fake Slack's port.

``apps.connections.open`` on :class:`~tests.fakes.slack_api.FakeSlack`
returns this server's ``ws://`` URL; on connect it sends ``hello`` like Slack,
then the test pushes envelopes (``slash_commands``, ``events_api``,
``interactive``) and waits for the client's acknowledgment of each
``envelope_id``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes.slack_api import FakeSlack


class SocketModeServer:
    """Attach before ``FakeSlack.start()`` (routes freeze when it starts)."""

    def __init__(self, fake: FakeSlack) -> None:
        self.fake = fake
        fake.socket = self
        fake.web_app.router.add_get("/socket", self._ws)
        self._ws_conn: web.WebSocketResponse | None = None
        self._connected = asyncio.Event()
        self._ids = itertools.count(1)
        self.acks: dict[str, tuple[float, dict[str, Any]]] = {}
        self.sent_at: dict[str, float] = {}
        self._acked = asyncio.Condition()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.fake.port}/socket?ticket=fake-ticket"

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._ws_conn = ws
        await ws.send_str(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": 1,
                    "debug_info": {"host": "fake", "approximate_connection_time": 3600},
                    "connection_info": {"app_id": "A111"},
                }
            )
        )
        self._connected.set()
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            data = json.loads(msg.data)
            envelope_id = data.get("envelope_id")
            if envelope_id:
                async with self._acked:
                    self.acks[envelope_id] = (time.monotonic(), data)
                    self._acked.notify_all()
        return ws

    async def connected(self, within: float = 10.0) -> None:
        await asyncio.wait_for(self._connected.wait(), within)

    async def send(self, kind: str, payload: dict[str, Any], *, retry_attempt: int = 0) -> str:
        """Push one envelope; returns its envelope_id."""
        assert self._ws_conn is not None, "no Socket Mode client connected"
        envelope_id = f"env-{next(self._ids)}"
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind == "slash_commands",
        }
        if kind == "events_api":
            envelope["retry_attempt"] = retry_attempt
            envelope["retry_reason"] = "timeout" if retry_attempt else ""
        self.sent_at[envelope_id] = time.monotonic()
        await self._ws_conn.send_str(json.dumps(envelope))
        return envelope_id

    async def ack(self, envelope_id: str, within: float = 5.0) -> tuple[float, dict[str, Any]]:
        """Wait for the client's ack; returns (seconds after sending, ack message)."""
        async with self._acked:
            await asyncio.wait_for(self._acked.wait_for(lambda: envelope_id in self.acks), within)
        at, data = self.acks[envelope_id]
        return at - self.sent_at[envelope_id], data

    async def close(self) -> None:
        if self._ws_conn is not None and not self._ws_conn.closed:
            await self._ws_conn.close()
