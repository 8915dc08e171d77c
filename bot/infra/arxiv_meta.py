"""What an arXiv lookup gives back, and how it fails: the names the rest of
the bot uses (:mod:`bot.infra.arxiv_client` re-exports them), kept apart from
the HTTP half (:mod:`bot.infra.arxiv_http`) so that using them loads neither
requests, lxml nor the arxiv package."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class PaperMeta:
    """What the bot needs to show and store about one paper."""

    arxiv_id: str
    version: int
    title: str
    authors: tuple[str, ...]
    abstract: str
    categories: tuple[str, ...]
    primary_category: str
    published: datetime
    updated: datetime
    comment: str
    journal_ref: str
    doi: str
    links: tuple[str, ...]


class ArxivUnavailable(Exception):
    """arXiv could not be reached or gave no usable answer after every retry."""


class ArxivUnreachable(ArxivUnavailable):
    """No connection to arXiv at all (refused, or its host name does not
    resolve): known at once, so it is reported without waiting for retries."""
