"""arXiv metadata client: one per process, polite, batched and resilient.

arXiv asks for at most one request every 3 seconds, on one connection. Requests
start at least 3 s apart, counted start to start, one at a time (`_Gate`).
Lookups are put on a pending set and fetched by a single worker task in one
``id_list`` request (up to 100 ids): those that arrive together, or while a
request is in flight, share the next request, so a burst of proposals costs one
request rather than one each. The `arxiv` package is synchronous; each request
runs in the client's own thread (one: one request in flight), so the event
loop never blocks and a request never queues behind the database work on
asyncio's default threads. That package, requests and lxml live in
:mod:`bot.infra.arxiv_http`, imported in that thread at the first look-up: a
process that never looks a paper up loads none of them.

The set of ids a request carries (its "cut") is taken as late as possible:
once the HTTP side is ready (the first import takes 0.1-0.3 s) and the gate
is open, right before the request is handed to its thread. An id that comes
while the first request is still being prepared rides in it, not in the next
one 3 s later. And a command whose ids are not known yet (acknowledged, its
handler still saving it) can be announced (:meth:`ArxivClient.expect`): a cut
waits for it up to `hold` seconds (50 ms), so a proposal acknowledged just
before a request starts rides in that request.

Outcomes per id: a `PaperMeta`; ``None`` when arXiv does not have the paper;
`InvalidReference` when arXiv rejects the id (HTTP 400 / its error entry);
`ArxivUnavailable` when arXiv could not be reached after the retries.

An empty feed is only believed when a second request also comes back empty:
arXiv's API sometimes answers a valid query with a spurious empty page, and
caching that as "no such paper" would turn a hiccup into a wrong answer.

No caching here: the caller keeps metadata in the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
import math
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from bot.infra.arxiv_meta import ArxivUnavailable, ArxivUnreachable, PaperMeta
from bot.infra.arxiv_ref import InvalidReference, parse_ref
from bot.infra.clock import SystemTimer, Timer

if TYPE_CHECKING:
    from bot.infra.arxiv_http import Transport

__all__ = ["ArxivClient", "ArxivUnavailable", "ArxivUnreachable", "PaperMeta"]

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_BATCH = 100
#: How long a cut waits for a look-up announced with `ArxivClient.expect`.
HOLD_SECONDS = 0.05


class _BadRequest(Exception):
    """arXiv rejected the id list (HTTP 400 or its error entry)."""


class _Gate:
    """Spaces requests start-to-start, with at most one in flight.

    arXiv asks for no more than one request every 3 seconds, over a single
    connection. So a request may start only when both hold:

    * `interval` has passed since the previous request *started*, and
    * the previous request has ended (one in flight at a time).

    That is, the next starts at ``max(previous start + interval, previous end)``.
    With nothing in flight and the interval already past, a request starts at
    once. An answer slower than the interval is not overlapped by the next
    request, although 3 s have passed since it started: arXiv asks for a single
    connection, and a second request would only queue behind a struggling
    server. (The gate used to count the interval from the previous *end*, as
    the arxiv package does; with a 2-s answer that made every request wait 5 s,
    although arXiv's rule was met after 3.)

    `slot` is the blocking backstop around every HTTP request, whoever sends it
    (the lock keeps one in flight, even for a request the arxiv package made on
    its own); `wait` is the client's worker waiting its turn on the event loop,
    so ids that arrive meanwhile join the next batch. Time comes from a `Timer`
    so tests check the rule on a manual timer, not by measuring real sleeps.
    """

    def __init__(self, interval: float, timer: Timer | None = None) -> None:
        self.interval = interval
        self.timer = timer or SystemTimer()
        self._lock = threading.Lock()
        self._in_flight = False
        self._next = -math.inf  # earliest start of the next request
        #: When the last request started (on `timer`), or None before the first.
        self.last_start: float | None = None

    def wait_time(self) -> float:
        """Seconds until the interval since the last start has passed (0 if it has).

        Says nothing about a request in flight: `slot` waits for that one to end.
        """
        return max(0.0, self._next - self.timer.monotonic())

    async def wait(self) -> None:
        # The blocking `slot` below catches any sub-millisecond early wake-up.
        delay = self.wait_time()
        if delay > 0:
            await self.timer.asleep(delay)

    @contextlib.contextmanager
    def slot(self) -> Iterator[float]:
        """Hold the only request slot; yields the request's start time."""
        with self._lock:
            while (delay := self.wait_time()) > 0:
                self.timer.sleep(delay)
            start = self.timer.monotonic()
            self.last_start = start
            self._next = start + self.interval
            self._in_flight = True
            try:
                yield start
            finally:
                self._in_flight = False

    @property
    def in_flight(self) -> bool:
        return self._in_flight


def _http_module() -> Any:
    from bot.infra import arxiv_http

    return arxiv_http


def _first_line(exc: BaseException) -> str:
    """A short description: requests' messages repeat the whole URL and the
    nested urllib3 error, which is noise in a one-line log."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:160]}" if text else type(exc).__name__


class ArxivClient:
    """Looks papers up on arXiv; create one per process and share it.

    Use it from one event loop at a time (the pending set lives on that loop).
    """

    def __init__(
        self,
        *,
        api_url: str,
        min_interval: float = 3.0,
        timeout: float = 15.0,
        attempts: int = 4,
        backoff: float = 2.0,
        batch_window: float = 0.02,
        hold: float = HOLD_SECONDS,
        timer: Timer | None = None,
    ) -> None:
        self._host = urlsplit(api_url).hostname or api_url
        self._attempts = max(1, attempts)
        self._backoff = backoff
        self._batch_window = batch_window
        self._timer = timer or SystemTimer()
        self._gate = _Gate(min_interval, self._timer)
        self._api_url = api_url
        self._timeout = timeout
        self._request_log: list[tuple[float, list[str]]] = []
        #: The HTTP session and the arxiv package's client, made at the first
        #: request (:meth:`_transport`); None until then.
        self._http: Transport | None = None
        self._http_lock = threading.Lock()
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._futures: dict[str, asyncio.Future[PaperMeta | None]] = {}
        self._pending: dict[str, None] = {}  # insertion-ordered set of keys
        self._worker: asyncio.Task[None] | None = None
        #: The one thread requests run in (made at the first look-up).
        self._thread: ThreadPoolExecutor | None = None
        self._hold = hold
        #: Announced look-ups (see `expect`): key -> until when a cut waits for it.
        self._expected: dict[object, float] = {}
        self._expected_changed: asyncio.Event | None = None

    @property
    def requests_made(self) -> int:
        """HTTP requests actually sent (retries included)."""
        return len(self._request_log)

    @property
    def request_log(self) -> list[tuple[float, list[str]]]:
        """(start time on the client's timer, ids) of every request, in order:
        when the gate let it go, before a byte was sent, so the spacing seen
        here is the gate's own, free of network and server jitter."""
        return self._request_log

    async def lookup(self, arxiv_id: str) -> PaperMeta | None:
        """Metadata for one paper, or None if arXiv does not have it.

        Raises InvalidReference for an id that is malformed or that arXiv
        rejects, and ArxivUnavailable when arXiv cannot be reached.
        """
        key = str(parse_ref(arxiv_id))
        return await asyncio.shield(self._enqueue(key))

    async def lookup_many(self, ids: Iterable[str]) -> dict[str, PaperMeta | None]:
        """Metadata keyed by the given strings; ids arXiv rejects map to None.

        All ids are validated before anything is sent, so a typo raises
        InvalidReference at once instead of costing a request.
        """
        keys = {given: str(parse_ref(given)) for given in ids}
        futures = {key: self._enqueue(key) for key in set(keys.values())}
        outcomes = await asyncio.gather(
            *(asyncio.shield(f) for f in futures.values()), return_exceptions=True
        )
        by_key: dict[str, PaperMeta | None] = {}
        for key, outcome in zip(futures, outcomes, strict=True):
            if isinstance(outcome, InvalidReference):
                by_key[key] = None
            elif isinstance(outcome, BaseException):
                raise outcome
            else:
                by_key[key] = outcome
        return {given: by_key[key] for given, key in keys.items()}

    async def aclose(self) -> None:
        """Stop the worker, fail whoever still waits, and close the HTTP session."""
        if self._worker is not None and not self._worker.done():
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        self._fail(list(self._futures), ArxivUnavailable("the arXiv client was closed"))
        with self._http_lock:
            self._closed = True
            if self._http is not None:
                self._http.session.close()
        if self._thread is not None:
            self._thread.shutdown(wait=False)
            self._thread = None

    def expect(self, key: object) -> None:
        """A look-up is on its way under ``key`` (a command just accepted,
        whose handler has not asked yet): a request about to start in the next
        `hold` seconds waits until :meth:`expected_done` (or `hold`), so the
        ids come in it rather than 3 s later. Call from the event loop."""
        self._expected[key] = self._timer.monotonic() + self._hold

    def expected_done(self, key: object) -> None:
        """The announced look-ups of ``key`` are asked (or there are none)."""
        if self._expected.pop(key, None) is not None and self._expected_changed is not None:
            self._expected_changed.set()

    async def _wait_for_expected(self) -> None:
        """Before a cut: until no announced look-up is outstanding (each is
        waited for `hold` seconds at most from its announcement)."""
        while self._expected:
            now = self._timer.monotonic()
            for key in [k for k, until in self._expected.items() if until <= now]:
                del self._expected[key]
            if not self._expected:
                return
            changed = self._expected_changed = asyncio.Event()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), max(self._expected.values()) - now)

    # -- batching ---------------------------------------------------------

    def _enqueue(self, key: str) -> asyncio.Future[PaperMeta | None]:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            # A new loop (e.g. a new test): whatever the old one held is dead.
            self._loop, self._futures, self._pending, self._worker = loop, {}, {}, None
            self._expected, self._expected_changed = {}, None
        future = self._futures.get(key)
        if future is None:
            future = loop.create_future()
            # Mark exceptions as retrieved even if every waiter was cancelled.
            future.add_done_callback(lambda f: f.cancelled() or f.exception())
            self._futures[key] = future
            self._pending[key] = None
        if self._worker is None or self._worker.done():
            self._worker = loop.create_task(self._run(), name="arxiv-lookups")
        return future

    async def _in_thread(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in the client's thread (its own: never queued behind
        the database work on the loop's default executor)."""
        if self._thread is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="arxiv")
        call = functools.partial(contextvars.copy_context().run, fn, *args)
        return await asyncio.get_running_loop().run_in_executor(self._thread, call)

    def _prepare(self) -> Any:
        """Import the HTTP side and make the transport (in the thread)."""
        http = _http_module()
        self._transport()
        return http

    async def _run(self) -> None:
        try:
            # The HTTP side is made ready meanwhile (the first time, an import).
            ready = asyncio.ensure_future(self._in_thread(self._prepare))
            # From idle, let callers of the same moment join (the batch window,
            # or longer if the gate is still closed); later rounds take what
            # arrived while the previous request was in flight, once the gate
            # opens, with no extra window. Whatever arrives until the HTTP
            # side is ready joins too: the cut is taken right before sending.
            await self._timer.asleep(max(self._batch_window, self._gate.wait_time()))
            await ready
            while self._pending:
                await self._gate.wait()
                await self._wait_for_expected()
                batch = list(self._pending)[:MAX_BATCH]
                for key in batch:
                    del self._pending[key]
                await self._resolve(batch)
        except BaseException as exc:
            self._fail(list(self._futures), ArxivUnavailable(f"arXiv lookup stopped: {exc!r}"))
            raise

    async def _resolve(self, batch: list[str]) -> None:
        try:
            found = await self._fetch_with_retries(batch)
        except _BadRequest:
            if len(batch) == 1:
                self._fail(batch, InvalidReference(batch[0], "arXiv says this is not a valid id"))
                return
            # Bisect so one bad id costs ~2·log2(n) requests, not n, and the
            # others still get their answers.
            middle = len(batch) // 2
            await self._resolve(batch[:middle])
            await self._resolve(batch[middle:])
            return
        except ArxivUnavailable as exc:
            self._fail(batch, exc)
            return
        for key in batch:
            future = self._futures.pop(key, None)
            if future is not None and not future.done():
                future.set_result(found.get(key))

    def _fail(self, keys: list[str], exc: Exception) -> None:
        for key in keys:
            self._pending.pop(key, None)
            future = self._futures.pop(key, None)
            if future is not None and not future.done():
                future.set_exception(exc)

    # -- one request, with retries ----------------------------------------

    async def _fetch_with_retries(self, batch: list[str]) -> dict[str, PaperMeta | None]:
        http = _http_module()  # imported by _prepare, in the thread
        empties = 0
        last_error = "no answer"
        for attempt in range(1, self._attempts + 1):
            await self._gate.wait()
            try:
                results = await self._in_thread(self._fetch, batch)
            except http.HTTPError as exc:
                if exc.status == 400:
                    raise _BadRequest from exc
                if exc.status != 429 and exc.status < 500:
                    raise ArxivUnavailable(f"arXiv answered HTTP {exc.status}") from exc
                last_error = f"HTTP {exc.status}"
                await self._sleep_before_retry(attempt, self._transport().session.retry_after)
                continue
            except http.RequestException as exc:
                why = http.unreachable(exc)
                if why is not None:
                    raise ArxivUnreachable(f"can't reach {self._host}: {why}") from None
                last_error = _first_line(exc)
                await self._sleep_before_retry(attempt, None)
                continue
            except http.MalformedFeed as exc:
                last_error = f"a malformed answer ({_first_line(exc)})"
                await self._sleep_before_retry(attempt, None)
                continue
            if results:
                return http.match(batch, results)
            empties += 1
            if empties >= 2:
                return {}
            last_error = "an empty page that a retry did not confirm"
            log.info("arXiv gave an empty page for %s; asking again to confirm", batch)
        raise ArxivUnavailable(
            f"arXiv did not answer after {self._attempts} attempts ({last_error})"
        )

    async def _sleep_before_retry(self, attempt: int, retry_after: float | None) -> None:
        if attempt >= self._attempts:
            return
        delay = self._backoff * 2 ** (attempt - 1)
        if retry_after is not None:
            delay = max(delay, retry_after)
        await self._timer.asleep(delay)

    def _transport(self) -> Transport:
        """The HTTP session and the arxiv package's client, made (and those
        packages imported) on first use, in the worker thread."""
        if self._http is not None:
            return self._http
        # Imported outside the lock: it takes ~0.1 s, and aclose (on the
        # event loop) takes the lock.
        from bot.infra import arxiv_http

        with self._http_lock:
            if self._http is None:
                session = arxiv_http.Session(self._gate.slot, self._timeout, self._request_log)
                if self._closed:
                    session.close()
                self._http = arxiv_http.Transport(session, self._api_url, MAX_BATCH)
            return self._http

    def _fetch(self, batch: list[str]) -> list[Any]:
        """One HTTP request (runs in a thread); never follows to a second page."""
        return self._transport().fetch(batch)
