"""What a paper's summary is made from (:class:`PaperInput`), what it is
(:class:`Summary`), its cache key, and the sentence splitter both the LLM's
validation and the offline summary use.

A summary is reused while the paper (id and arXiv version), the prompt file's
version hash, the model and the group's takeaways are unchanged; that is the
cache key (:func:`cache_key`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.chat import sanitize
from storage.papers.tables import Paper

OFFLINE_MODEL = "extractive"
TLDR_LIMIT = 400
INSIGHT_LIMIT = 300
WHY_LIMIT = 500

_ABBREV = re.compile(
    r"(?:\b(?:e\.g|i\.e|et al|vs|cf|Fig|Eq|Sec|Tab|approx|resp|incl|no|Dr|Mr|Ms|Prof)\.|\b[A-Z]\.)$"
)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")


def sentences(text: str) -> list[str]:
    """Split prose into sentences, keeping "e.g.", "et al." and decimals intact."""
    text = " ".join(text.split())
    if not text:
        return []
    parts: list[str] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        piece = text[start : m.start()].strip()
        if _ABBREV.search(piece) or not piece:
            continue
        parts.append(text[start : m.start()].strip())
        start = m.end()
    tail = text[start:].strip()
    if tail:
        parts.append(tail)
    return parts


@dataclass(frozen=True)
class Summary:
    tldr: str
    key_insights: tuple[str, ...]
    why_it_matters: str | None
    source: str  # llm | extractive
    model: str
    prompt_version: str
    #: 0-3 prose paragraphs, already through the grounding check (empty offline).
    write_up: tuple[str, ...] = ()
    #: The takeaway numbers (1-based) "why it matters" draws from.
    why_it_matters_cites: tuple[int, ...] = ()

    @property
    def offline(self) -> bool:
        return self.source == "extractive"


@dataclass(frozen=True)
class PaperInput:
    """What a summary is made from: the paper's arXiv record and its discussion."""

    paper_id: int
    arxiv_id: str
    version: int | None
    title: str
    authors: tuple[str, ...]
    abstract: str
    comment: str = ""
    links: tuple[str, ...] = ()
    takeaways: tuple[str, ...] = ()
    discussion: tuple[str, ...] = ()
    #: The thread's messages as (author's display name, text): what a quote must match.
    thread: tuple[tuple[str, str], ...] = ()
    #: Display names of the group's members (who a write-up may name).
    members: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        paper: Paper,
        takeaways: Sequence[str] = (),
        discussion: Sequence[str] = (),
        *,
        thread: Sequence[tuple[str, str]] = (),
        members: Sequence[str] = (),
    ) -> PaperInput:
        assert paper.id is not None
        return cls(
            paper.id,
            paper.arxiv_id,
            paper.version,
            paper.title,
            tuple(paper.authors or ()),
            paper.abstract,
            paper.comment,
            tuple(paper.links or ()),
            tuple(t for t in takeaways if t.strip()),
            tuple(d for d in discussion if d.strip()),
            tuple((a, t) for a, t in thread if t.strip()),
            tuple(members),
        )

    @property
    def allowed_urls(self) -> set[str]:
        """The only links a summary of this paper may keep."""
        return sanitize.paper_urls(self.arxiv_id, self.version) | set(self.code_links)

    @property
    def code_links(self) -> list[str]:
        return sanitize.code_links(self.abstract, self.comment, *self.links)


def takeaways_hash(takeaways: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(takeaways).encode("utf-8")).hexdigest()


def cache_key(p: PaperInput, *, prompt_version: str, model: str, extra: str = "") -> str:
    """``extra``: more of the call's inputs (the write-up also hashes its thread
    and the tl;dr it builds on)."""
    parts = [
        str(p.paper_id),
        str(p.version or 0),
        prompt_version,
        model,
        takeaways_hash(p.takeaways),
    ]
    if extra:
        parts.append(extra)
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def write_up_key(p: PaperInput, s: Summary, *, prompt_version: str, model: str) -> str:
    """The write-up's cache key: the tl;dr rules plus its thread, members and tl;dr."""
    inputs = "\x1e".join(
        [
            *(f"{a}\x1d{t}" for a, t in p.thread),
            *p.discussion,
            *p.members,
            s.tldr,
            *s.key_insights,
            s.why_it_matters or "",
        ]
    )
    digest = hashlib.sha256(inputs.encode("utf-8")).hexdigest()
    return cache_key(p, prompt_version=prompt_version, model=model, extra="write_up:" + digest)
