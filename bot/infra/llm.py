"""The LLM client: any OpenAI-compatible chat-completions endpoint.

Retries are ours, not the SDK's (``max_retries=0``): we need every attempt's
outcome and token usage recorded in ``llm_calls``, a cap on how long a
``Retry-After`` may hold a draft, and a circuit breaker so a dead endpoint
costs one round of fast failures instead of a backoff ladder per paper (the
digest then falls back to offline summaries in well under a second).

Bounded concurrency (``READGROUP_LLM_CONCURRENCY``, default 4) keeps a
16-paper digest from hammering a rate-limited endpoint.

The ``openai`` package is imported when the first request is made, not with
this module: without a key (offline summaries) nothing pays its ~0.4 s and
14 MB at start-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import openai
    from openai import AsyncOpenAI

log = logging.getLogger(__name__)


class LlmError(Exception):
    """The endpoint gave no usable answer after the retries; use the offline path."""


class FormatRejected(LlmError):
    """The endpoint refused ``response_format`` (a 400 naming it)."""


@dataclass(frozen=True)
class CallRecord:
    """One HTTP attempt, for the ``llm_calls`` table and the organizer's cost line."""

    model: str
    #: ok | rate_limited | server_error | timeout | connection_error | rejected_format | error
    outcome: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    latency_ms: int = 0
    error: str = ""


@dataclass(frozen=True)
class Completion:
    content: str
    model: str
    prompt_tokens: int
    completion_tokens: int


@dataclass
class LlmClient:
    """Chat completions with timeouts, retries, Retry-After, a breaker and a semaphore."""

    base_url: str | None
    api_key: str
    model: str
    timeout: float = 30.0
    #: Attempts per request for 429/5xx/timeouts (the first one included).
    max_attempts: int = 3
    concurrency: int = 4
    backoff: float = 0.5
    max_backoff: float = 8.0
    #: A Retry-After longer than this gives up instead of holding the draft.
    max_retry_after: float = 30.0
    #: Consecutive failures (5xx, timeouts, refused connections) that open the breaker.
    breaker_threshold: int = 3
    breaker_cooldown: float = 60.0
    _client: AsyncOpenAI | None = field(default=None, init=False, repr=False)
    _semaphore: asyncio.Semaphore | None = field(default=None, init=False, repr=False)
    _failures: int = field(default=0, init=False)
    _open_until: float = field(default=0.0, init=False)
    _tripped: asyncio.Event | None = field(default=None, init=False, repr=False)
    #: None = not known yet; False once the endpoint rejected response_format.
    supports_response_format: bool | None = field(default=None, init=False)

    @property
    def client(self) -> AsyncOpenAI:
        if self._client is None:
            from openai import AsyncOpenAI

            self._client = AsyncOpenAI(
                api_key=self.api_key,
                base_url=self.base_url or None,
                timeout=self.timeout,
                max_retries=0,
            )
        return self._client

    @property
    def semaphore(self) -> asyncio.Semaphore:
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.concurrency)
        return self._semaphore

    def breaker_open(self) -> bool:
        return time.monotonic() < self._open_until

    def _failed(self) -> None:
        self._failures += 1
        if self._failures >= self.breaker_threshold:
            self._open_until = time.monotonic() + self.breaker_cooldown
            self._breaker_event().set()  # wake requests sleeping before a retry
        if self._failures == self.breaker_threshold:
            log.warning(
                "LLM endpoint failed %d times in a row; using offline summaries for %.0f s",
                self._failures,
                self.breaker_cooldown,
            )

    def _succeeded(self) -> None:
        self._failures = 0
        self._open_until = 0.0
        self._breaker_event().clear()

    def _breaker_event(self) -> asyncio.Event:
        if self._tripped is None:
            self._tripped = asyncio.Event()
        return self._tripped

    async def _pause(self, seconds: float) -> None:
        """Sleep before a retry, but stop at once if the breaker opens meanwhile."""
        event = self._breaker_event()
        if event.is_set() and not self.breaker_open():
            event.clear()  # the cool-down is over
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout=seconds)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def complete_prompt(
        self,
        meta: Mapping[str, Any],
        messages: Sequence[dict[str, str]],
        *,
        records: list[CallRecord],
    ) -> Completion:
        """:meth:`complete` with a prompt file's settings (its front matter:
        ``temperature``, ``max_tokens``, ``response_format: json_object``)."""
        return await self.complete(
            messages,
            records=records,
            temperature=meta.get("temperature"),
            max_tokens=meta.get("max_tokens"),
            json_mode=meta.get("response_format") == "json_object",
        )

    async def complete(
        self,
        messages: Sequence[dict[str, str]],
        *,
        records: list[CallRecord],
        temperature: float | None = None,
        max_tokens: int | None = None,
        json_mode: bool = True,
    ) -> Completion:
        """One chat completion, retried on 429/5xx/timeouts. Every attempt is
        appended to ``records``. Uses ``response_format`` for JSON unless the
        endpoint rejected it before; on rejection retries at once without it."""
        async with self.semaphore:
            want_format = json_mode and self.supports_response_format is not False
            try:
                return await self._with_retries(
                    messages, records, temperature, max_tokens, want_format
                )
            except FormatRejected:
                self.supports_response_format = False
                log.info("endpoint rejects response_format; asking for JSON in the prompt")
                return await self._with_retries(messages, records, temperature, max_tokens, False)

    async def _with_retries(
        self,
        messages: Sequence[dict[str, str]],
        records: list[CallRecord],
        temperature: float | None,
        max_tokens: int | None,
        want_format: bool,
    ) -> Completion:
        last = ""
        for attempt in range(1, self.max_attempts + 1):
            if self.breaker_open():
                raise LlmError(f"LLM endpoint is failing; breaker open ({last or 'earlier calls'})")
            delay, last = await self._attempt(
                messages, records, temperature, max_tokens, want_format
            )
            if isinstance(delay, Completion):
                return delay
            if attempt == self.max_attempts or delay is None:
                break
            await self._pause(delay)
        raise LlmError(last)

    async def _attempt(
        self,
        messages: Sequence[dict[str, str]],
        records: list[CallRecord],
        temperature: float | None,
        max_tokens: int | None,
        want_format: bool,
    ) -> tuple[Completion | float | None, str]:
        """One HTTP call. Returns (completion, "") or (delay before retrying or
        None for "do not retry", what went wrong)."""
        kwargs: dict[str, Any] = {"model": self.model, "messages": list(messages)}
        if temperature is not None:
            kwargs["temperature"] = temperature
        if max_tokens is not None:
            kwargs["max_tokens"] = max_tokens
        if want_format:
            kwargs["response_format"] = {"type": "json_object"}
        started = time.monotonic()

        def ms() -> int:
            return int((time.monotonic() - started) * 1000)

        import openai  # loaded with the client (see the module note)

        try:
            resp = await self.client.chat.completions.create(**kwargs)
        except openai.BadRequestError as exc:
            text = _error_text(exc)
            if want_format and "response_format" in text.lower():
                records.append(
                    CallRecord(self.model, "rejected_format", latency_ms=ms(), error=text)
                )
                raise FormatRejected(text) from exc
            records.append(CallRecord(self.model, "error", latency_ms=ms(), error=text))
            return None, f"the endpoint refused the request (400): {text}"
        except openai.RateLimitError as exc:
            wait = _retry_after(exc)
            text = _error_text(exc)
            records.append(CallRecord(self.model, "rate_limited", latency_ms=ms(), error=text))
            if wait is not None and wait > self.max_retry_after:
                return None, f"rate limited; the endpoint asks to wait {wait:.0f} s"
            return (wait if wait is not None else self._backoff(len(records))), "rate limited (429)"
        except openai.APITimeoutError:
            records.append(CallRecord(self.model, "timeout", latency_ms=ms(), error="timeout"))
            self._failed()
            return self._backoff(len(records)), f"no answer within {self.timeout:g} s"
        except openai.APIConnectionError as exc:
            records.append(
                CallRecord(self.model, "connection_error", latency_ms=ms(), error=str(exc))
            )
            self._failed()
            return self._backoff(len(records)), f"cannot reach the endpoint: {exc}"
        except openai.APIStatusError as exc:
            text = _error_text(exc)
            if exc.status_code >= 500 or exc.status_code == 408:
                records.append(CallRecord(self.model, "server_error", latency_ms=ms(), error=text))
                self._failed()
                wait = _retry_after(exc)
                delay = wait if wait is not None and wait <= self.max_retry_after else None
                return (delay or self._backoff(len(records))), f"server error {exc.status_code}"
            records.append(CallRecord(self.model, "error", latency_ms=ms(), error=text))
            return None, f"the endpoint refused the request ({exc.status_code}): {text}"
        except openai.OpenAIError as exc:  # malformed response body and the like
            records.append(CallRecord(self.model, "error", latency_ms=ms(), error=str(exc)))
            self._failed()
            return None, f"unusable response: {exc}"
        self._succeeded()
        usage = resp.usage
        prompt_tokens = usage.prompt_tokens if usage else 0
        completion_tokens = usage.completion_tokens if usage else 0
        content = resp.choices[0].message.content if resp.choices else None
        records.append(
            CallRecord(
                resp.model or self.model,
                "ok",
                prompt_tokens,
                completion_tokens,
                (usage.total_tokens if usage else 0),
                ms(),
            )
        )
        return Completion(
            content or "", resp.model or self.model, prompt_tokens, completion_tokens
        ), ""

    def _backoff(self, attempt: int) -> float:
        base = min(self.max_backoff, self.backoff * 2 ** max(0, attempt - 1))
        return base * (0.75 + random.random() / 2)  # jitter: replicas don't retry in step


def _retry_after(exc: openai.APIStatusError) -> float | None:
    """Seconds the server asked us to wait (``retry-after-ms`` or ``Retry-After``)."""
    headers = exc.response.headers
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value) / divisor)
        except ValueError:
            continue  # an HTTP date: fall back to our own backoff
    return None


def _error_text(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict) and err.get("message"):
            param = err.get("param")
            return f"{err['message']}" + (f" (param: {param})" if param else "")
    return str(exc.message)


def client_from_settings(settings: Any, **overrides: Any) -> LlmClient | None:
    """The configured client, or None without ``OPENAI_API_KEY`` (offline summaries)."""
    key = settings.openai_api_key
    if key is None or not key.get_secret_value():
        return None
    return LlmClient(
        base_url=settings.openai_base_url,
        api_key=key.get_secret_value(),
        model=settings.openai_model,
        **({"concurrency": settings.llm_concurrency} | overrides),
    )
