"""A loopback fake of the arXiv query API that serves real recorded Atom answers.

It runs a real HTTP server in a daemon thread, so the code under test goes
through `requests`, the `arxiv` package's parser and real sockets, from sync,
async or subprocess tests alike. Only ``id_list`` queries are modelled (plus
the recorded ``search_query=testing`` pages).
"""

from __future__ import annotations

import asyncio
import html
import re
import selectors
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fixtures import ROOT as FIXTURES_ROOT

FIXTURES_DIR = FIXTURES_ROOT / "arxiv"

#: The environment of a real ``readgroup`` process talking to this fake: arXiv's
#: 3-second spacing and the back-offs cut to milliseconds (a test of a kill or
#: an outage need not wait them out; the spacing and back-offs themselves are
#: tested in-process, and their defaults in tests/bot/test_arxiv_client.py).
FAST_ENV = {
    "READGROUP_ARXIV_INTERVAL_SECONDS": "0.05",
    "READGROUP_ARXIV_BACKOFF_SECONDS": "0.05",
    "READGROUP_ARXIV_REFETCH_SECONDS": "0.2",
}

#: What the fake sees is the client's spacing plus the difference between two
#: requests' trips to it: the first opens the connection, the next reuses it, and
#: on a busy machine a worker thread may be scheduled late between taking its
#: slot and sending. The gate counts start to start, so arrivals can be that much
#: closer than the interval. Spacing tests check the rule exactly on the client's
#: recorded start times (ArxivClient.request_log; tests/infra/test_arxiv_gate.py
#: on a manual timer) and what the fake saw only to within this.
LOOPBACK_JITTER = 0.1

# What arXiv itself accepts as an id (looser than our parser: arXiv answers
# 0000.0000 with an empty feed, not a 400).
_WELL_FORMED = re.compile(r"\d{4}\.\d{4,5}(?:v\d+)?|[a-z-]+(?:\.[A-Za-z-]+)?/\d{7}(?:v\d+)?")
_ENTRY = re.compile(r"<entry>.*?</entry>", re.DOTALL)
_ENTRY_ID = re.compile(r"<id>https?://arxiv\.org/abs/(?P<id>[^<]+)</id>")
_VERSION = re.compile(r"v\d+$")
_SELF_LINK = re.compile(r'<link href="(?P<href>[^"]*/api/query\?[^"]*)"')
_FEED_HEAD = """<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" \
xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">
  <id>https://arxiv.org/api/fake</id>
  <title>arXiv Query: search_query={query}&amp;id_list={ids}&amp;start={start}&amp;\
max_results={max_results}</title>
  <updated>2026-04-12T22:10:19Z</updated>
  <opensearch:itemsPerPage>{max_results}</opensearch:itemsPerPage>
  <opensearch:totalResults>{total}</opensearch:totalResults>
  <opensearch:startIndex>{start}</opensearch:startIndex>
"""


@dataclass(frozen=True)
class RequestRecord:
    """One request as the fake saw it."""

    time: float  # time.monotonic() on arrival, comparable with the client's log
    path: str
    id_list: tuple[str, ...]
    query: dict[str, str]


@dataclass
class _Rule:
    """A temporary misbehaviour: applies while count/time allow."""

    status: int = 200
    count: int | None = None
    until: float | None = None
    retry_after: float | None = None

    def live(self) -> bool:
        if self.count is not None and self.count <= 0:
            return False
        return self.until is None or time.monotonic() < self.until

    def use(self) -> None:
        if self.count is not None:
            self.count -= 1


def _base(arxiv_id: str) -> str:
    return _VERSION.sub("", arxiv_id)


def _load_fixtures() -> tuple[dict[str, str], dict[tuple[str, str, str], str], str, str]:
    """Entries by versioned id, search pages, the 400 body and a template entry."""
    if not FIXTURES_DIR.is_dir():
        raise RuntimeError(f"arXiv fixtures not found at {FIXTURES_DIR} (tests/fixtures/arxiv).")
    atom = FIXTURES_DIR / "atom"
    bodies: list[str] = []
    for pattern in ("single_*.xml", "old_style_*.xml", "versioned_*.xml", "multi_*.xml"):
        bodies.extend(p.read_text(encoding="utf-8") for p in sorted(atom.glob(pattern)))
    searches: dict[tuple[str, str, str], str] = {}
    for path in sorted(atom.glob("search_*.xml")):
        body = path.read_text(encoding="utf-8")
        link = _SELF_LINK.search(body)
        if link is None:
            continue
        query = parse_qs(urlsplit(html.unescape(link["href"])).query)
        key = (query["search_query"][0], query["start"][0], query["max_results"][0])
        searches[key] = body
        # The recorded request said ``search_query=testing``; arXiv echoes it as
        # ``all:testing``, so both spellings get the page.
        searches[(key[0].removeprefix("all:"), *key[1:])] = body
    entries: dict[str, str] = {}
    for body in bodies:
        for entry in _ENTRY.findall(body):
            m = _ENTRY_ID.search(entry)
            if m is not None:
                entries[m["id"]] = entry
    error_body = (atom / "error_entry_http400_bad_id_abc.xml").read_text(encoding="utf-8")
    return entries, searches, error_body, entries["1605.08386v1"]


class FakeArxiv:
    """Fake ``/api/query`` on 127.0.0.1 with knobs for arXiv's bad days."""

    def __init__(self, *, synthetic: bool = False) -> None:
        self.synthetic = synthetic
        self._entries, self._searches, self._error_body, self._template = _load_fixtures()
        self._lock = threading.Lock()
        self._requests: list[RequestRecord] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._wake: socket.socket | None = None  # a byte here stops the server
        self._open = threading.Event()
        self._open.set()
        self._answered: list[tuple[float, float]] = []
        self.reset()

    # -- lifecycle ----------------------------------------------------------

    @property
    def url(self) -> str:
        """The query endpoint, as ``ARXIV_API_URL`` expects it."""
        if self._server is None:
            raise RuntimeError("FakeArxiv is not started")
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}/api/query"

    def start(self) -> FakeArxiv:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                fake._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        # A client that timed out hangs up before we answer; that is expected.
        server.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
        self._server = server
        self._wake, wake_end = socket.socketpair()
        self._thread = threading.Thread(
            target=self._serve, args=(server, wake_end), name="fake-arxiv", daemon=True
        )
        self._thread.start()
        return self

    @staticmethod
    def _serve(server: ThreadingHTTPServer, wake: socket.socket) -> None:
        """Accept connections until a byte arrives on ``wake``. Not
        ``serve_forever``: its ``shutdown()`` waits for the next poll (50 ms
        at the interval it had), which most tests paid once at their end."""
        with selectors.DefaultSelector() as selector, wake:
            selector.register(server, selectors.EVENT_READ)
            selector.register(wake, selectors.EVENT_READ)
            while True:
                ready = {key.fileobj for key, _ in selector.select()}
                if wake in ready:
                    return
                server.handle_request()  # readable: accepts without waiting

    def stop(self) -> None:
        if self._server is not None:
            assert self._wake is not None and self._thread is not None
            self._wake.send(b"x")
            self._thread.join()
            self._wake.close()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeArxiv:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- controls -----------------------------------------------------------

    def reset(self) -> None:
        """Back to a healthy arXiv; the request log is kept."""
        self._open.set()
        with self._lock:
            self._fail: _Rule | None = None
            self._delay = 0.0
            self._malformed = 0
            self._empty = 0
            self._rejected: set[str] = set()

    def fail(
        self,
        status: int,
        *,
        seconds: float | None = None,
        count: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        """Answer `status` for `seconds` or `count` requests (forever if neither)."""
        until = None if seconds is None else time.monotonic() + seconds
        with self._lock:
            self._fail = _Rule(status, count, until, retry_after)

    def delay(self, seconds: float) -> None:
        """Hold every answer this long (to trip client timeouts)."""
        with self._lock:
            self._delay = seconds

    async def requests_seen(self, n: int) -> None:
        """Until this fake has seen ``n`` requests (real time passes: for tests
        whose client runs on a manual timer or waits on a held answer)."""
        for _ in range(2000):
            if len(self.requests) >= n:
                return
            await asyncio.sleep(0.005)
        raise AssertionError(f"the fake saw {len(self.requests)} requests, not {n}")

    def hold(self) -> None:
        """Keep every answer back until `release` (a request stays in flight for
        as long as a test needs, without a timed delay)."""
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    def malformed(self, count: int = 1) -> None:
        """The next `count` answers are cut off mid-entry (truncated XML)."""
        with self._lock:
            self._malformed = count

    def empty(self, count: int = 1) -> None:
        """The next `count` answers are spurious empty feeds with status 200."""
        with self._lock:
            self._empty = count

    def reject(self, *ids: str) -> None:
        """Treat these ids as malformed: any request containing one gets the 400."""
        with self._lock:
            self._rejected.update(ids)

    @property
    def requests(self) -> list[RequestRecord]:
        """A snapshot of every request received so far."""
        with self._lock:
            return list(self._requests)

    @property
    def answered(self) -> list[tuple[float, float]]:
        """(arrival, answer sent) of every request answered so far, on
        time.monotonic(), in the order the answers went out."""
        with self._lock:
            return list(self._answered)

    def known_ids(self) -> list[str]:
        """Versioned ids of every recorded entry the fake can serve."""
        return sorted(self._entries)

    # -- serving ------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        arrived = time.monotonic()
        try:
            self._answer(handler, arrived)
        finally:
            with self._lock:
                self._answered.append((arrived, time.monotonic()))

    def _answer(self, handler: BaseHTTPRequestHandler, arrived: float) -> None:
        parts = urlsplit(handler.path)
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        ids = tuple(i for i in query.get("id_list", "").split(",") if i)
        with self._lock:
            self._requests.append(RequestRecord(arrived, parts.path, ids, query))
            delay = self._delay
            rule = self._fail if self._fail is not None and self._fail.live() else None
            if rule is not None:
                rule.use()
            malformed = empty = False
            if rule is None and self._malformed > 0:
                self._malformed -= 1
                malformed = True
            elif rule is None and self._empty > 0:
                self._empty -= 1
                empty = True
            rejected = set(ids) & self._rejected
        self._open.wait()
        if delay:
            time.sleep(delay)
        if parts.path != "/api/query":
            self._send(handler, 404, "not found", "text/plain")
            return
        if rule is not None:
            body = self._error(ids[0] if ids else "") if rule.status == 400 else "Unavailable"
            headers = {} if rule.retry_after is None else {"Retry-After": f"{rule.retry_after:g}"}
            self._send(handler, rule.status, body, headers=headers)
            return
        bad = sorted(rejected) + [i for i in ids if not _WELL_FORMED.fullmatch(i)]
        if bad:
            self._send(handler, 400, self._error(bad[0]))
            return
        start = int(query.get("start", "0") or 0)
        max_results = int(query.get("max_results", "10") or 10)
        search = query.get("search_query", "")
        if search and not ids:
            recorded = self._searches.get((search, str(start), str(max_results)))
            self._send(handler, 200, recorded or self._feed([], query, 0))
            return
        entries = [] if empty else [e for e in map(self._entry_for, ids) if e is not None]
        page = entries[start : start + max_results]
        body = self._feed(page, query, len(entries))
        if malformed:
            cut = body.find("<summary>")
            body = body[: cut + 40] if cut >= 0 else body[: len(body) // 2]
        self._send(handler, 200, body)

    def _entry_for(self, requested: str) -> str | None:
        if requested in self._entries:
            return self._entries[requested]
        if _VERSION.search(requested) is None:
            versions = [k for k in self._entries if _base(k) == requested]
            if versions:
                return self._entries[max(versions, key=lambda k: int(k.rsplit("v", 1)[1]))]
        if not self.synthetic or requested in ("0000.0000", "0808.05394"):
            return None
        return self._synthetic(requested)

    def _synthetic(self, requested: str) -> str:
        """A plausible entry for any id, from a real one, for load tests."""
        versioned = requested if _VERSION.search(requested) else f"{requested}v1"
        entry = self._template.replace("1605.08386v1", versioned)
        entry = re.sub(
            r"<title>.*?</title>", f"<title>Synthetic paper {requested}</title>", entry, count=1
        )
        return entry

    def _feed(self, entries: list[str], query: dict[str, str], total: int) -> str:
        head = _FEED_HEAD.format(
            query=_xml_escape(query.get("search_query", "")),
            ids=_xml_escape(query.get("id_list", "")),
            start=int(query.get("start", "0") or 0),
            max_results=int(query.get("max_results", "10") or 10),
            total=total,
        )
        return head + "".join(f"  {e}\n" for e in entries) + "</feed>\n"

    def _error(self, bad_id: str) -> str:
        return self._error_body.replace("abc", _xml_escape(bad_id).replace("/", "_"))

    @staticmethod
    def _send(
        handler: BaseHTTPRequestHandler,
        status: int,
        body: str,
        content_type: str = "application/atom+xml; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        data = body.encode("utf-8")
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
