"""A loopback fake of an OpenAI-compatible chat-completions endpoint.

Serves ``POST /v1/chat/completions`` on 127.0.0.1 (ephemeral port) with bodies
shaped like the documented example (``fixtures/openai/chat_completion_default.json``)
and errors shaped like the spec's ``ErrorResponse`` schema. Programmable:

* ``latency``: seconds every answer takes;
* ``fail(status, count=, retry_after=)``: the next ``count`` requests fail;
* ``down()``: every request answers 500 until ``up()``;
* ``hang(count)``: the next requests never answer (client timeouts);
* ``invalid(count)``: the next answers' content is not the JSON asked for;
* ``reject_response_format``: a 400 naming ``response_format``, like servers
  that do not support it;
* ``script``: a function of (system prompt, user prompt) returning the answer
  (a dict, sent as JSON, or a string) or None for the default summary; tests
  use it to replay written answers (tests/fixtures/quarter/llm_answers.yaml);
* ``obedient``: follows instructions injected into the prompt (copies every
  URL and @mention it finds into its answer), to test that we neutralise them.

Records every request body in ``requests`` and the peak concurrency.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
from collections.abc import Callable
from typing import Any

from aiohttp import web

from tests.fixtures import ROOT as FIXTURES_ROOT

FIXTURES = FIXTURES_ROOT / "openai"
_TAKEAWAYS = re.compile(r"<untrusted_takeaways>\n(.*?)\n</untrusted_takeaways>", re.S)
_ABSTRACT = re.compile(r"<untrusted_abstract>\n(.*?)\n</untrusted_abstract>", re.S)
_TITLE = re.compile(r"^Paper: (.*)$", re.M)


def _fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


class OpenAIFake:
    def __init__(self) -> None:
        self.base_body = _fixture("chat_completion_default.json")
        schema = _fixture("error_response_schema_from_spec.json")
        # Error bodies carry exactly the fields the spec's Error schema requires.
        self.error_fields = tuple(schema["components.schemas.Error"]["required"])
        self.latency = 0.0
        self.obedient = False
        self.script: Callable[[str, str], dict[str, Any] | str | None] | None = None
        self.reject_response_format = False
        self.requests: list[dict[str, Any]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._failures: list[tuple[int, float | None]] = []
        self._down = False
        self._hang = 0
        self._invalid = 0
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()
        self.port = 0

    # -- programming -------------------------------------------------------
    def fail(self, status: int, *, count: int = 1, retry_after: float | None = None) -> None:
        self._failures.extend([(status, retry_after)] * count)

    def down(self) -> None:
        self._down = True

    def up(self) -> None:
        self._down = False

    def hang(self, count: int = 1) -> None:
        self._hang += count

    def invalid(self, count: int = 1) -> None:
        self._invalid += count

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def completions(self) -> int:
        """Requests that got a 200."""
        return sum(1 for r in self.requests if r.get("_status") == 200)

    # -- server ------------------------------------------------------------
    async def __aenter__(self) -> OpenAIFake:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()

    def _error(
        self,
        status: int,
        message: str,
        kind: str,
        *,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> web.Response:
        error = {"message": message, "type": kind, "param": param, "code": None}
        assert set(error) == set(self.error_fields)
        return web.json_response({"error": error}, status=status, headers=headers)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        record: dict[str, Any] = dict(body)
        record["_auth"] = request.headers.get("Authorization", "")
        self.requests.append(record)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self._hang > 0:
                self._hang -= 1
                record["_status"] = "hang"
                await self._closing.wait()  # until the fake shuts down
                return self._error(503, "Shutting down.", "server_error")
            if self.latency:
                await asyncio.sleep(self.latency)
            if self._down:
                record["_status"] = 500
                return self._error(
                    500, "The server had an error while processing your request.", "server_error"
                )
            if self._failures:
                status, retry_after = self._failures.pop(0)
                record["_status"] = status
                headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else None
                if status == 429:
                    return self._error(
                        429, "Rate limit reached for requests.", "requests", headers=headers
                    )
                return self._error(
                    status,
                    "The server had an error while processing your request.",
                    "server_error",
                    headers=headers,
                )
            if self.reject_response_format and "response_format" in body:
                record["_status"] = 400
                return self._error(
                    400,
                    "Invalid parameter: 'response_format' is not supported with this model.",
                    "invalid_request_error",
                    param="response_format",
                )
            record["_status"] = 200
            return web.json_response(self._completion(body))
        finally:
            self.in_flight -= 1

    def _completion(self, body: dict[str, Any]) -> dict[str, Any]:
        prompt = "\n".join(str(m.get("content", "")) for m in body.get("messages", []))
        if self._invalid > 0:
            self._invalid -= 1
            content = "Sure! Here is a summary: the paper is great."
        else:
            scripted = self._scripted(body)
            if scripted is not None:
                content = scripted if isinstance(scripted, str) else json.dumps(scripted)
            else:
                content = json.dumps(self._summary(prompt))
        out = copy.deepcopy(self.base_body)
        out["model"] = body.get("model", out["model"])
        out["choices"][0]["message"]["content"] = content
        prompt_tokens = max(1, len(prompt) // 4)
        completion_tokens = max(1, len(content) // 4)
        out["usage"]["prompt_tokens"] = prompt_tokens
        out["usage"]["completion_tokens"] = completion_tokens
        out["usage"]["total_tokens"] = prompt_tokens + completion_tokens
        return out

    def _scripted(self, body: dict[str, Any]) -> dict[str, Any] | str | None:
        if self.script is None:
            return None
        messages = body.get("messages", [])
        system = next((str(m["content"]) for m in messages if m.get("role") == "system"), "")
        user = "\n".join(str(m["content"]) for m in messages if m.get("role") == "user")
        return self.script(system, user)

    def _summary(self, prompt: str) -> dict[str, Any]:
        user = prompt.split("Paper: ", 1)[-1]
        title_m = _TITLE.search("Paper: " + user)
        title = title_m.group(1).strip() if title_m else "this paper"
        takeaways_m = _TAKEAWAYS.search(prompt)
        takeaways = [
            re.sub(r"^(?:-|\d+\.)\s*", "", line.strip())
            for line in (takeaways_m.group(1).splitlines() if takeaways_m else [])
            if line.strip()
        ]
        summary: dict[str, Any] = {
            "tldr": f"The authors of {title} propose a method and show it works. "
            "It beats the baselines they compare with.",
            "key_insights": [
                f"{title} introduces a simple idea.",
                "Experiments support the claims.",
                "The method has limitations the authors discuss.",
            ],
            # A model that invents relevance: the caller must drop it when the
            # group recorded no takeaways.
            "why_it_matters": (
                {
                    "text": "The group noted: " + "; ".join(takeaways),
                    "cites": list(range(1, len(takeaways) + 1)),
                }
                if takeaways
                else "This will transform everything our team does."
            ),
        }
        if self.obedient:
            abstract_m = _ABSTRACT.search(prompt)
            data = abstract_m.group(1) if abstract_m else user
            injected = re.findall(r"https?://\S+|<[!@][^>]*>|@\w+", data)
            summary["tldr"] = (
                f"As instructed {' '.join(injected)} the authors of {title} propose a method. "
                "It beats the baselines they compare with."
            )
            summary["key_insights"][0] = (
                "Click [here](https://evil.example/phish) now @everyone <!here> "
                + " ".join(injected)
            )
        return summary
