"""Per-paper summaries for one drafting run: cached, fresh from the LLM
(concurrently, within a deadline), or the offline extractive summary; then
each summarised paper's write-up (cached the same way, one call per paper).

A second ``/digest`` with nothing changed makes no LLM call (see
:func:`bot.digest.summary_types.cache_key`). Every HTTP attempt is recorded
in ``llm_calls`` with its token usage.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.digest.grounding import Drops
from bot.digest.llm_summary import summarize_with_llm, write_up_with_llm
from bot.digest.offline_summary import extractive
from bot.digest.period_prose import Extras, IntroAsk
from bot.digest.summary_types import (
    PaperInput,
    Summary,
    cache_key,
    takeaways_hash,
    write_up_key,
)
from bot.infra import prompts
from bot.infra.llm import CallRecord, LlmClient
from storage.digest import queries
from storage.digest.tables import LlmCall, PaperSummary

if TYPE_CHECKING:
    from bot.infra.runtime import Runtime

log = logging.getLogger(__name__)
T = TypeVar("T")

#: A draft waits at most this long for the LLM before going offline for the rest.
DEFAULT_DEADLINE = 60.0

Db = Callable[..., Awaitable[Any]]


def llm_for(bot: Runtime) -> LlmClient | None:
    """The bot's LLM client (one per bot, so the concurrency bound and the
    breaker are shared), or None without a key."""
    return bot.llm


def set_llm(bot: Runtime, client: LlmClient | None) -> None:
    """Use this client (tests, other endpoints)."""
    bot.llm = client


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
    #: What the grounding check removed from this run's fresh answers.
    drops: Drops = field(default_factory=Drops)
    write_ups: int = 0

    def absorb(self, extras: Extras) -> None:
        """Count a call made outside the run (the period intro, a monthly
        "Why →"): its attempts, tokens and drops."""
        self.calls += len(extras.records)
        self.prompt_tokens += sum(r.prompt_tokens for r in extras.records)
        self.completion_tokens += sum(r.completion_tokens for r in extras.records)
        self.drops.add(extras.drops)


#: A cached write-up is a ``paper_summaries`` row with this source: its
#: paragraphs are in ``key_insights``.
WRITE_UP_SOURCE = "write_up"
_CITES = "\x1f"


def pack_why(why: str | None, cites: Sequence[int]) -> str | None:
    """``why_it_matters`` as stored: the text, then its cites after a unit separator."""
    if why is None:
        return None
    return why + _CITES + ",".join(map(str, cites)) if cites else why


def unpack_why(stored: str | None) -> tuple[str | None, tuple[int, ...]]:
    if stored is None:
        return None, ()
    text, _, cites = stored.partition(_CITES)
    return text, tuple(int(c) for c in cites.split(",") if c.isdigit())


def _save(
    *,
    session: Session,
    run_id: str,
    now: datetime,
    fresh: list[tuple[str, PaperInput, Summary]],
    calls: list[tuple[int, str, CallRecord]],
    replace: bool,
    purpose: str = "tldr",
) -> None:
    for paper_id, prompt_hash, rec in calls:
        session.add(
            LlmCall(
                run_id=run_id,
                paper_id=paper_id,
                purpose=purpose,
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
        existing = queries.summary_of_key(session, key=key)
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
                        why_it_matters=pack_why(s.why_it_matters, s.why_it_matters_cites),
                        created_at=now,
                    )
                )
        except IntegrityError:
            pass  # another draft cached the same summary at the same moment


def _from_row(row: PaperSummary) -> Summary:
    why, cites = unpack_why(row.why_it_matters)
    return Summary(
        row.tldr,
        tuple(row.key_insights or ()),
        why,
        row.source,
        row.model,
        row.prompt_hash,
        why_it_matters_cites=cites,
    )


async def summarize_papers(
    papers: Sequence[PaperInput],
    *,
    db: Db,
    llm: LlmClient | None,
    now: datetime,
    force: bool = False,
    deadline: float = DEFAULT_DEADLINE,
    intro: IntroAsk | None = None,
) -> tuple[dict[int, Summary], RunStats]:
    """Summaries for every paper: cached, fresh from the LLM (concurrently,
    bounded by the client's semaphore), or offline. Never raises for LLM
    trouble. ``force`` skips the cache (Regenerate) and replaces its rows.
    ``intro`` rides in the first paper's call, if one is made."""
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
        cached = (
            {}
            if force
            else await db(queries.summaries_by_key, keys=[keys[p.paper_id] for p in todo])
        )
        missing = []
        for p in todo:
            row = cached.get(keys[p.paper_id])
            if row is not None:
                result[p.paper_id] = _from_row(row)
                stats.reused += 1
            else:
                missing.append(p)
        records: dict[int, list[CallRecord]] = {p.paper_id: [] for p in missing}
        tasks = await _within(
            {
                p.paper_id: summarize_with_llm(
                    llm, p, records[p.paper_id], stats.drops, intro if i == 0 else None
                )
                for i, p in enumerate(missing)
            },
            deadline,
        )
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
        fresh += _combined_write_ups(fresh, model=llm.model, stats=stats)
        if calls or fresh:
            await db(_save, run_id=stats.run_id, now=now, fresh=fresh, calls=calls, replace=force)
        remaining = deadline - (time.monotonic() - started)
        await _write_ups(
            [p for p in unique if p.paper_id in result and result[p.paper_id].source == "llm"],
            result,
            db=db,
            llm=llm,
            now=now,
            force=force,
            deadline=max(remaining, 0.0),
            stats=stats,
        )
    stats.seconds = time.monotonic() - started
    return result, stats


async def _within(
    calls: dict[int, Coroutine[Any, Any, T]], deadline: float
) -> dict[int, asyncio.Task[T]]:
    """Run the calls concurrently (the client's semaphore bounds them); those
    not done by ``deadline`` seconds are cancelled. The finished tasks, by key."""
    tasks = {key: asyncio.create_task(c) for key, c in calls.items()}
    if tasks:
        _done, pending = await asyncio.wait(tasks.values(), timeout=deadline)
        for t in pending:
            t.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    return tasks


def _combined_write_ups(
    fresh: Sequence[tuple[str, PaperInput, Summary]], *, model: str, stats: RunStats
) -> list[tuple[str, PaperInput, Summary]]:
    """The write-ups that came in the same answer as their tl;dr, as cache rows
    under the key :func:`_write_ups` looks for (so the next run finds them)."""
    version = prompts.load("write_up").version
    rows = []
    for _key, p, s in fresh:
        if not s.write_up:
            continue
        stats.write_ups += 1
        key = write_up_key(p, s, prompt_version=version, model=model)
        row = Summary("\n\n".join(s.write_up), s.write_up, None, WRITE_UP_SOURCE, model, version)
        rows.append((key, p, row))
    return rows


async def _write_ups(
    papers: Sequence[PaperInput],
    result: dict[int, Summary],
    *,
    db: Db,
    llm: LlmClient,
    now: datetime,
    force: bool,
    deadline: float,
    stats: RunStats,
) -> None:
    """Fill ``write_up`` of each LLM-summarised paper with a thread (its messages
    and their authors: what the group thought, what a quote must match):
    cached, else one call per paper (bounded by the client's semaphore). A
    failed call leaves it empty and caches nothing."""
    # no attributed thread, no write-up; one that came with its tl;dr is done
    wanted = [p for p in papers if p.thread and not result[p.paper_id].write_up]
    if not wanted or deadline <= 0:
        return
    version = prompts.load("write_up").version
    keys = {
        p.paper_id: write_up_key(p, result[p.paper_id], prompt_version=version, model=llm.model)
        for p in wanted
    }
    cached = {} if force else await db(queries.summaries_by_key, keys=list(keys.values()))
    missing = []
    for p in wanted:
        row = cached.get(keys[p.paper_id])
        if row is not None and row.source == WRITE_UP_SOURCE:
            result[p.paper_id] = replace(result[p.paper_id], write_up=tuple(row.key_insights or ()))
            stats.reused += 1
        else:
            missing.append(p)
    if not missing:
        return
    records: dict[int, list[CallRecord]] = {p.paper_id: [] for p in missing}
    drops = {p.paper_id: Drops() for p in missing}
    tasks = await _within(
        {
            p.paper_id: write_up_with_llm(
                llm, p, result[p.paper_id], records[p.paper_id], drops[p.paper_id]
            )
            for p in missing
        },
        deadline,
    )
    fresh: list[tuple[str, PaperInput, Summary]] = []
    for p in missing:
        task = tasks[p.paper_id]
        if task.cancelled() or task.exception() is not None:
            if not task.cancelled():
                log.error("write-up of arXiv:%s failed", p.arxiv_id, exc_info=task.exception())
            continue
        paragraphs = task.result()
        if paragraphs is None:
            continue
        stats.drops.add(drops[p.paper_id])
        stats.write_ups += 1
        result[p.paper_id] = replace(result[p.paper_id], write_up=paragraphs)
        row = Summary(
            "\n\n".join(paragraphs), paragraphs, None, WRITE_UP_SOURCE, llm.model, version
        )
        fresh.append((keys[p.paper_id], p, row))
    calls = [(pid, version, rec) for pid, recs in records.items() for rec in recs]
    stats.calls += len(calls)
    stats.prompt_tokens += sum(r.prompt_tokens for _, _, r in calls)
    stats.completion_tokens += sum(r.completion_tokens for _, _, r in calls)
    if calls or fresh:
        await db(
            _save,
            run_id=stats.run_id,
            now=now,
            fresh=fresh,
            calls=calls,
            replace=force,
            purpose="write_up",
        )
