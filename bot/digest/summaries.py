"""Per-paper summaries: the LLM's structured tl;dr, its cache, and the offline
extractive summary used without a key or when the LLM fails.

A summary is reused while the paper (id and arXiv version), the prompt file's
version hash, the model and the group's takeaways are unchanged; that is the
cache key, so a second ``/digest`` with nothing changed makes no LLM call.
Every HTTP attempt is recorded in ``llm_calls`` with its token usage.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import logging
import math
import re
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.chat import sanitize
from bot.infra import prompts
from bot.infra.llm import CallRecord, LlmClient, LlmError
from storage.digest.tables import LlmCall, PaperSummary
from storage.papers.tables import Paper

log = logging.getLogger(__name__)

OFFLINE_MODEL = "extractive"
OFFLINE_LABEL = "extractive summary (offline)"
TLDR_LIMIT = 400
INSIGHT_LIMIT = 300
WHY_LIMIT = 500
#: A draft waits at most this long for the LLM before going offline for the rest.
DEFAULT_DEADLINE = 60.0

Db = Callable[..., Awaitable[Any]]


# -- the structured result ---------------------------------------------------

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


class LlmOutput(BaseModel):
    """What the model must return (validated; anything else is invalid output)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    tldr: str
    key_insights: list[str]
    why_it_matters: str | None = None

    @field_validator("tldr")
    @classmethod
    def _at_most_two_sentences(cls, v: str) -> str:
        parts = sentences(v)
        if not parts:
            raise ValueError("tldr is empty")
        if len(parts) > 2:
            raise ValueError(f"tldr has {len(parts)} sentences; at most 2 allowed")
        return " ".join(parts)

    @field_validator("key_insights")
    @classmethod
    def _two_to_four(cls, v: list[str]) -> list[str]:
        items = [" ".join(str(x).split()) for x in v if str(x).strip()]
        if not 2 <= len(items) <= 4:
            raise ValueError(f"key_insights has {len(items)} items; 2 to 4 required")
        return items

    @field_validator("why_it_matters")
    @classmethod
    def _blank_is_none(cls, v: str | None) -> str | None:
        if v is None or not v.strip() or v.strip().lower() in {"null", "none", "n/a"}:
            return None
        return v


@dataclass(frozen=True)
class Summary:
    tldr: str
    key_insights: tuple[str, ...]
    why_it_matters: str | None
    source: str  # llm | extractive
    model: str
    prompt_version: str

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

    @classmethod
    def of(
        cls, paper: Paper, takeaways: Sequence[str] = (), discussion: Sequence[str] = ()
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


def cache_key(p: PaperInput, *, prompt_version: str, model: str) -> str:
    parts = [
        str(p.paper_id),
        str(p.version or 0),
        prompt_version,
        model,
        takeaways_hash(p.takeaways),
    ]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


# -- offline extractive summary ----------------------------------------------

_STOP = frozenset(
    """
    a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing down during each
    few for from further had has have having here how however i if in into is it its
    itself just more most much no nor not now of off on once only or other our out over
    own same should so some such than that the their them then there these they this
    those through to too under until up use used using very was we were what when where
    which while who whom why will with would you your paper work show shows propose
    proposed present new based
    """.split()  # noqa: SIM905  (a word list reads best as words)
)
_WORD = re.compile(r"[a-z][a-z0-9\-]{2,}")
_CUE = re.compile(
    r"\b(we (propose|introduce|present|develop|show|find|demonstrate|examine|study|"
    r"investigate|perform|performed|conduct|evaluate|analy[sz]e|provide)|this (paper|article)|"
    r"in this (work|paper|article)|our (method|approach|results?))\b",
    re.IGNORECASE,
)
#: Sentences that lean on the one before read badly on their own as a tl;dr.
_LEANING = re.compile(
    r"^(these|those|such|as such|it|they|however|moreover|furthermore|thus|therefore|"
    r"additionally|in addition|finally|also|hence)\b",
    re.IGNORECASE,
)


def extractive(p: PaperInput, *, prompt_version: str = "") -> Summary:
    """A deterministic summary made only of the abstract's own sentences:
    the best-scoring sentence is the tl;dr, the next best (in reading order)
    are the key insights."""
    sents = sentences(p.abstract)
    if not sents:
        return Summary("", (), None, "extractive", OFFLINE_MODEL, prompt_version)
    words = [w for s in sents for w in _WORD.findall(s.lower()) if w not in _STOP]
    freq = Counter(words)
    top = max(freq.values()) if freq else 1

    def score(i: int, s: str) -> float:
        content = [w for w in _WORD.findall(s.lower()) if w not in _STOP]
        if not content:
            return 0.0
        base = sum(freq[w] / top for w in set(content)) / math.sqrt(len(content))
        cue = 0.6 if _CUE.search(s) else 0.0
        position = 0.3 if i == 0 else (0.1 if i == len(sents) - 1 else 0.0)
        too_long = 0.5 if len(s) > TLDR_LIMIT else 0.0
        leaning = 0.4 if _LEANING.match(s) and not cue else 0.0
        return base + cue + position - too_long - leaning

    ranked = sorted(range(len(sents)), key=lambda i: (-score(i, sents[i]), i))
    best = ranked[0]
    insights = sorted(ranked[1:4])
    allowed = p.allowed_urls
    return Summary(
        tldr=sanitize.one_line(sents[best], allowed_urls=allowed, limit=TLDR_LIMIT),
        key_insights=tuple(
            sanitize.one_line(sents[i], allowed_urls=allowed, limit=INSIGHT_LIMIT) for i in insights
        ),
        why_it_matters=None,
        source="extractive",
        model=OFFLINE_MODEL,
        prompt_version=prompt_version,
    )


# -- the LLM path ------------------------------------------------------------


def messages_for(p: PaperInput) -> tuple[list[dict[str, str]], prompts.PromptFile]:
    prompt = prompts.load("tldr")
    user = prompt.render(
        title=p.title or f"arXiv:{p.arxiv_id}",
        authors=", ".join(p.authors),
        arxiv_id=p.arxiv_id,
        abstract=p.abstract,
        takeaways=list(p.takeaways),
        discussion=list(p.discussion[-20:]),
    )
    system = str(prompt.meta.get("system", "")).strip()
    return [{"role": "system", "content": system}, {"role": "user", "content": user}], prompt


def _json_object(content: str) -> Any:
    """The JSON object in a reply (tolerating code fences or a preamble, which
    endpoints without ``response_format`` often add)."""
    text = content.strip()
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        raise ValueError("the reply contains no JSON object")
    return json.loads(text[start : end + 1])


_CONTENT_WORD = re.compile(r"[a-z]{4,}")


def _grounded(why: str, takeaways: Sequence[str]) -> bool:
    """Whether "why it matters" is drawn from the takeaways (shares most of its
    content words with them), not invented."""
    said = set(_CONTENT_WORD.findall(" ".join(takeaways).lower())) - _STOP
    words = set(_CONTENT_WORD.findall(why.lower())) - _STOP
    return bool(words) and len(words & said) / len(words) >= 0.4


def to_summary(out: LlmOutput, p: PaperInput, *, model: str, prompt_version: str) -> Summary:
    """Sanitise a validated model answer and enforce "why it matters" comes
    only from the takeaways."""
    allowed = p.allowed_urls
    tldr = sanitize.one_line(out.tldr, allowed_urls=allowed, limit=TLDR_LIMIT)
    insights = tuple(
        x
        for x in (
            sanitize.one_line(k, allowed_urls=allowed, limit=INSIGHT_LIMIT)
            for k in out.key_insights
        )
        if x
    )
    why: str | None = None
    if p.takeaways and out.why_it_matters:
        candidate = sanitize.one_line(out.why_it_matters, allowed_urls=allowed, limit=WHY_LIMIT)
        why = candidate if candidate and _grounded(candidate, p.takeaways) else None
    if not tldr or len(insights) < 2:
        raise ValueError("after removing unsafe content the summary is too thin")
    return Summary(tldr, insights, why, "llm", model, prompt_version)


async def summarize_with_llm(
    llm: LlmClient, p: PaperInput, records: list[CallRecord]
) -> Summary | None:
    """The model's summary, or None (the caller uses the offline one). Invalid
    output gets exactly one retry, told what was wrong."""
    messages, prompt = messages_for(p)
    settings = prompt.meta
    for attempt in (1, 2):
        try:
            completion = await llm.complete(
                messages,
                records=records,
                temperature=settings.get("temperature"),
                max_tokens=settings.get("max_tokens"),
                json_mode=settings.get("response_format") == "json_object",
            )
        except LlmError as exc:
            log.info("LLM gave no summary for arXiv:%s: %s", p.arxiv_id, exc)
            return None
        try:
            out = LlmOutput.model_validate(_json_object(completion.content))
            return to_summary(out, p, model=llm.model, prompt_version=prompt.version)
        except (ValueError, ValidationError) as exc:
            problem = _describe(exc)
            if records:
                records[-1] = dataclasses.replace(
                    records[-1], outcome="invalid_output", error=problem[:500]
                )
            log.info(
                "invalid LLM output for arXiv:%s (attempt %d): %s", p.arxiv_id, attempt, problem
            )
            messages = [
                *messages,
                {"role": "assistant", "content": completion.content[:4000]},
                {
                    "role": "user",
                    "content": f"That answer was not valid: {problem}. Reply again with only "
                    'the JSON object {"tldr": ..., "key_insights": [...], "why_it_matters": ...}.',
                },
            ]
    return None


def _describe(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
    return str(exc)


# -- one drafting run over many papers ------------------------------------------


@dataclass
class RunStats:
    """What a drafting run cost: for the organizer's line under the draft."""

    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reused: int = 0
    from_llm: int = 0
    offline: int = 0
    seconds: float = 0.0


def _load_cached(*, session: Session, keys: list[str]) -> dict[str, PaperSummary]:
    if not keys:
        return {}
    rows = session.exec(select(PaperSummary).where(col(PaperSummary.cache_key).in_(keys))).all()
    return {r.cache_key: r for r in rows}


def _save(
    *,
    session: Session,
    run_id: str,
    now: datetime,
    fresh: list[tuple[str, PaperInput, Summary]],
    calls: list[tuple[int, str, CallRecord]],
    replace: bool,
) -> None:
    for paper_id, prompt_hash, rec in calls:
        session.add(
            LlmCall(
                run_id=run_id,
                paper_id=paper_id,
                purpose="tldr",
                model=rec.model[:200],
                prompt_hash=prompt_hash,
                outcome=rec.outcome,
                prompt_tokens=rec.prompt_tokens,
                completion_tokens=rec.completion_tokens,
                total_tokens=rec.total_tokens,
                latency_ms=rec.latency_ms,
                error=rec.error[:2000],
                created_at=now,
            )
        )
    for key, p, s in fresh:
        existing = session.exec(select(PaperSummary).where(PaperSummary.cache_key == key)).first()
        if existing is not None:
            if not replace:
                continue
            session.delete(existing)
            session.flush()
        try:
            with session.begin_nested():
                session.add(
                    PaperSummary(
                        cache_key=key,
                        paper_id=p.paper_id,
                        paper_version=p.version,
                        prompt_hash=s.prompt_version,
                        model=s.model[:200],
                        takeaways_hash=takeaways_hash(p.takeaways),
                        source=s.source,
                        tldr=s.tldr,
                        key_insights=list(s.key_insights),
                        why_it_matters=s.why_it_matters,
                        created_at=now,
                    )
                )
        except IntegrityError:
            pass  # another draft cached the same summary at the same moment


def _from_row(row: PaperSummary) -> Summary:
    return Summary(
        row.tldr,
        tuple(row.key_insights or ()),
        row.why_it_matters,
        row.source,
        row.model,
        row.prompt_hash,
    )


async def summarize_papers(
    papers: Sequence[PaperInput],
    *,
    db: Db,
    llm: LlmClient | None,
    now: datetime,
    force: bool = False,
    deadline: float = DEFAULT_DEADLINE,
) -> tuple[dict[int, Summary], RunStats]:
    """Summaries for every paper: cached, fresh from the LLM (concurrently,
    bounded by the client's semaphore), or offline. Never raises for LLM
    trouble. ``force`` skips the cache (Regenerate) and replaces its rows."""
    started = time.monotonic()
    stats = RunStats()
    prompt_version = prompts.load("tldr").version
    result: dict[int, Summary] = {}
    todo: list[PaperInput] = []
    keys: dict[int, str] = {}
    unique = list({p.paper_id: p for p in papers}.values())
    for p in unique:
        if not p.abstract.strip():  # metadata not fetched yet: nothing to summarize
            result[p.paper_id] = extractive(p, prompt_version=prompt_version)
        elif llm is None:
            result[p.paper_id] = extractive(p, prompt_version=prompt_version)
            stats.offline += 1
        else:
            keys[p.paper_id] = cache_key(p, prompt_version=prompt_version, model=llm.model)
            todo.append(p)
    if llm is not None and todo:
        cached = {} if force else await db(_load_cached, keys=[keys[p.paper_id] for p in todo])
        missing = []
        for p in todo:
            row = cached.get(keys[p.paper_id])
            if row is not None:
                result[p.paper_id] = _from_row(row)
                stats.reused += 1
            else:
                missing.append(p)
        records: dict[int, list[CallRecord]] = {p.paper_id: [] for p in missing}
        tasks = {
            p.paper_id: asyncio.create_task(summarize_with_llm(llm, p, records[p.paper_id]))
            for p in missing
        }
        if tasks:
            _done, pending = await asyncio.wait(tasks.values(), timeout=deadline)
            for t in pending:
                t.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        fresh: list[tuple[str, PaperInput, Summary]] = []
        for p in missing:
            task = tasks[p.paper_id]
            got = None if task.cancelled() or task.exception() else task.result()
            if task.done() and not task.cancelled() and task.exception():
                log.error("summary of arXiv:%s failed", p.arxiv_id, exc_info=task.exception())
            if got is None:
                result[p.paper_id] = extractive(p, prompt_version=prompt_version)
                stats.offline += 1
            else:
                result[p.paper_id] = got
                stats.from_llm += 1
                fresh.append((keys[p.paper_id], p, got))
        calls = [(pid, prompt_version, rec) for pid, recs in records.items() for rec in recs]
        stats.calls = len(calls)
        stats.prompt_tokens = sum(r.prompt_tokens for _, _, r in calls)
        stats.completion_tokens = sum(r.completion_tokens for _, _, r in calls)
        if calls or fresh:
            await db(_save, run_id=stats.run_id, now=now, fresh=fresh, calls=calls, replace=force)
    stats.seconds = time.monotonic() - started
    return result, stats
