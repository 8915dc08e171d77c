"""The HTTP half of the arXiv client (:mod:`bot.infra.arxiv_client`): the
arxiv package, requests and lxml. The client imports this module when its
first request goes out, in the worker thread, so a process that never looks
a paper up (an idle bot, ``/help`` in the console) does not load them
(about 10 MB and 50 ms)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import UTC
from typing import Any
from urllib.parse import parse_qs, urlsplit

import arxiv
import requests
from arxiv import HTTPError as HTTPError
from lxml import etree
from requests import RequestException as RequestException
from urllib3.exceptions import NameResolutionError, NewConnectionError

from bot.infra.arxiv_meta import ArxivUnavailable, PaperMeta
from bot.infra.arxiv_ref import ArxivId, InvalidReference, parse_ref

log = logging.getLogger(__name__)

_MAX_RETRY_AFTER = 60.0
_ERROR_ENTRY_PREFIX = "https://arxiv.org/api/errors"


def unreachable(exc: requests.RequestException) -> str | None:
    """A one-line reason if `exc` is a refused connection or a DNS failure.

    Those fail the same way on a retry seconds later (a firewall, no network,
    a wrong ARXIV_API_URL), unlike a timeout or a reset mid-answer. requests
    wraps them as ConnectionError(MaxRetryError(reason=NewConnectionError)).
    """
    if not isinstance(exc, requests.ConnectionError) or isinstance(exc, requests.Timeout):
        return None
    reason = getattr(exc.args[0] if exc.args else None, "reason", None)
    if isinstance(reason, NameResolutionError):
        return "its host name does not resolve"
    if isinstance(reason, NewConnectionError):
        # "…: Failed to establish a new connection: [Errno 111] Connection refused"
        detail = str(reason).rsplit(": ", 1)[-1]
        return "the connection was refused" if "refused" in detail else f"no connection ({detail})"
    return None


class MalformedFeed(Exception):
    """A 200 answer that is not well-formed XML (e.g. cut off mid-transfer)."""


class _OnePageOnly(Exception):
    """The arxiv package asked for a second page; we never want one."""


def _squash(text: str | None) -> str:
    """arXiv wraps titles and abstracts at ~80 columns; undo that."""
    return " ".join((text or "").split())


def _retry_after(value: str | None) -> float | None:
    try:
        return min(_MAX_RETRY_AFTER, max(0.0, float(value))) if value else None
    except ValueError:
        return None  # an HTTP date; rare enough to fall back to our own backoff


class Session(requests.Session):
    """The arxiv package's session with what it lacks.

    * A default timeout: `requests` waits forever without one, and a hung arXiv
      connection would pin the single worker (and every waiter) indefinitely.
    * The rate gate around every request (`slot`, the client's gate), so even
      a request the package makes on its own (pagination) cannot break
      arXiv's spacing rule.
    * A strict XML check of 200 answers: the package's parser recovers from
      truncated XML and would silently give us half an abstract.
    * A one-request budget per fetch and a log of what was sent (`request_log`,
      the client's list).
    * Nothing sent once the client is closed: a request still waiting for the
      gate in its worker thread would otherwise go out after the process (or
      a test) has moved on, possibly to another server on the same port.
    """

    def __init__(
        self,
        slot: Callable[[], contextlib.AbstractContextManager[float]],
        timeout: float,
        request_log: list[tuple[float, list[str]]],
    ) -> None:
        super().__init__()
        self.slot = slot
        self.default_timeout = timeout
        self.budget = 1
        self.retry_after: float | None = None
        self.request_log = request_log
        self.closed = False

    def close(self) -> None:
        self.closed = True
        super().close()

    def request(self, method: str, url: Any, *args: Any, **kwargs: Any) -> Any:
        if self.budget <= 0:
            raise _OnePageOnly
        self.budget -= 1
        kwargs.setdefault("timeout", self.default_timeout)
        query = parse_qs(urlsplit(str(url)).query)
        ids = [i for v in query.get("id_list", []) for i in v.split(",") if i]
        self.retry_after = None
        with self.slot() as started:
            if self.closed:
                raise ArxivUnavailable("the arXiv client was closed")
            self.request_log.append((started, ids))
            resp = super().request(method, url, *args, **kwargs)
        self.retry_after = _retry_after(resp.headers.get("Retry-After"))
        if resp.status_code == 200:
            try:
                etree.fromstring(
                    resp.content,
                    etree.XMLParser(resolve_entities=False, no_network=True, recover=False),
                )
            except etree.XMLSyntaxError as exc:
                raise MalformedFeed(str(exc)) from exc
            if b"<id>" + _ERROR_ENTRY_PREFIX.encode() in resp.content:
                # arXiv's error entry lacks <published>, so the package would
                # drop it and report an empty page; it means a rejected id.
                resp.status_code = 400
        return resp


def _meta(result: arxiv.Result, aid: ArxivId) -> PaperMeta:
    return PaperMeta(
        arxiv_id=aid.base,
        version=aid.version or 1,
        title=_squash(result.title),
        authors=tuple(_squash(a.name) for a in result.authors),
        abstract=_squash(result.summary),
        categories=tuple(result.categories),
        primary_category=result.primary_category,
        published=result.published.astimezone(UTC),
        updated=result.updated.astimezone(UTC),
        comment=_squash(result.comment),
        journal_ref=_squash(result.journal_ref),
        doi=result.doi or "",
        links=tuple(link.href for link in result.links),
    )


class Transport:
    """The session and the arxiv package's client, made once per ArxivClient.

    Rate limiting and retries are the ArxivClient's (they must span the whole
    client and all callers), so the package's own are switched off."""

    def __init__(self, session: Session, api_url: str, page_size: int) -> None:
        self.session = session
        self.client = arxiv.Client(page_size=page_size, delay_seconds=0, num_retries=0)
        self.client.query_url_format = f"{api_url}?{{}}"
        self.client._session = session

    def fetch(self, batch: list[str]) -> list[arxiv.Result]:
        """One HTTP request (runs in a thread); never follows to a second page."""
        self.session.budget = 1
        search = arxiv.Search(id_list=batch, max_results=len(batch))
        collected: list[arxiv.Result] = []
        try:
            for result in self.client.results(search):
                collected.append(result)
        except _OnePageOnly:
            pass
        return collected


def match(batch: list[str], results: list[arxiv.Result]) -> dict[str, PaperMeta | None]:
    """Pair answers with requested keys; an unversioned key gets the latest version."""
    exact: dict[str, PaperMeta] = {}
    latest: dict[str, PaperMeta] = {}
    for result in results:
        try:
            aid = parse_ref(result.get_short_id())
        except InvalidReference:
            log.warning("arXiv returned an entry with an odd id: %s", result.entry_id)
            continue
        meta = _meta(result, aid)
        exact[str(aid)] = meta
        if aid.base not in latest or latest[aid.base].version < meta.version:
            latest[aid.base] = meta
    found: dict[str, PaperMeta | None] = {}
    for key in batch:
        aid = parse_ref(key)
        found[key] = exact.get(key) if aid.version is not None else latest.get(aid.base)
    return found
