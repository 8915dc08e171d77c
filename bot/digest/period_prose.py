"""The model's prose for a whole period: the intro of a week, month or
quarter, and a monthly pick's "Why →" rewritten from the proposer's reason.
Each answer goes through :mod:`bot.digest.grounding` and is cached in
``llm_answers`` like the tl;dr (:func:`ask_cached`)."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.chat import sanitize
from bot.digest.grounding import Drops, Sources, check_prose, json_object
from bot.infra import prompts
from bot.infra.llm import CallRecord, LlmClient, LlmError
from storage.digest import queries as digest_queries

if TYPE_CHECKING:
    from bot.infra.runtime import Runtime

log = logging.getLogger(__name__)

INTRO_LIMIT = 900
MONTHLY_WHY_LIMIT = 300


def _rendered(
    name: str, context: dict[str, Any]
) -> tuple[prompts.PromptFile, list[dict[str, str]]]:
    prompt = prompts.load(name)
    return prompt, [
        {"role": "system", "content": str(prompt.meta.get("system", "")).strip()},
        {"role": "user", "content": prompt.render(**context)},
    ]


def _as_dict(name: str, content: str) -> dict[str, Any] | None:
    try:
        out = json_object(content)
    except ValueError as exc:
        log.info("LLM gave no %s: %s", name, exc)
        return None
    return out if isinstance(out, dict) else None


async def _complete(
    llm: LlmClient,
    name: str,
    prompt: prompts.PromptFile,
    messages: list[dict[str, str]],
    records: list[CallRecord],
) -> str | None:
    try:
        completion = await llm.complete_prompt(prompt.meta, messages, records=records)
    except LlmError as exc:
        log.info("LLM gave no %s: %s", name, exc)
        return None
    return completion.content


async def ask(
    llm: LlmClient, name: str, records: list[CallRecord], **context: Any
) -> dict[str, Any] | None:
    """One call with prompt ``prompts/<name>.md``; None on any failure."""
    prompt, messages = _rendered(name, context)
    content = await _complete(llm, name, prompt, messages, records)
    return _as_dict(name, content) if content is not None else None


def answer_key(model: str, prompt: prompts.PromptFile, messages: list[dict[str, str]]) -> str:
    """The cache key of a period answer: the model, the prompt's settings and
    the whole rendered prompt (so every input and the prompt file are in it)."""
    settings = {k: prompt.meta.get(k) for k in ("temperature", "max_tokens", "response_format")}
    raw = json.dumps([model, prompt.name, settings, messages], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()


async def ask_cached(
    runtime: Runtime,
    llm: LlmClient,
    name: str,
    records: list[CallRecord],
    *,
    force: bool = False,
    **context: Any,
) -> dict[str, Any] | None:
    """:func:`ask`, answered from the ``llm_answers`` cache when the same
    model was asked the same rendered prompt before (``force``: Regenerate
    asks anew). Only a well-formed answer is kept."""
    prompt, messages = _rendered(name, context)
    key = answer_key(llm.model, prompt, messages)
    if not force:
        stored = await runtime.db(digest_queries.cached_answer, key=key)
        if stored is not None and (got := _as_dict(name, stored)) is not None:
            return got
    content = await _complete(llm, name, prompt, messages, records)
    got = _as_dict(name, content) if content is not None else None
    if got is not None and content is not None:
        await runtime.db(
            digest_queries.store_answer,
            key=key,
            purpose=name,
            model=llm.model,
            answer=content,
            now=runtime.clock.now(),
        )
    return got


def _paper_view(p: Any) -> dict[str, Any]:
    if isinstance(p, str):
        return {"title": p, "abstract": "", "takeaways": [], "thread": []}
    get = p.get if isinstance(p, dict) else lambda k, d=None: getattr(p, k, d)
    return {
        "title": str(get("title", "") or ""),
        "abstract": str(get("abstract", "") or ""),
        "authors": list(get("authors", ()) or ()),
        "takeaways": list(get("takeaways", ()) or ()),
        "thread": [tuple(m) for m in (get("thread", ()) or ())],
        "discussion": list(get("discussion", ()) or ()),
    }


@dataclass
class Extras:
    """Optional accounting for a call made outside a summary run."""

    drops: Drops = field(default_factory=Drops)
    records: list[CallRecord] = field(default_factory=list)


def _intro_context(
    kind: str, label: str, views: list[dict[str, Any]], takeaways: list[str]
) -> dict[str, Any]:
    papers = [{"title": v["title"], "abstract": v["abstract"][:1500]} for v in views]
    return {"kind": kind, "label": label, "papers": papers, "takeaways": list(takeaways)}


@dataclass
class IntroAsk:
    """A period's intro asked inside the first paper's tl;dr call, so it
    costs no call (and no round of waiting on the model) of its own. The
    context is the standalone intro prompt's; ``answer`` is what the model
    gave under ``"intro"``, unchecked (:func:`period_intro` checks it)."""

    context: dict[str, Any]
    key: str  # the standalone intro's cache key, where the answer is kept
    answer: str | None = None


def _intro_key(llm: LlmClient, context: dict[str, Any]) -> str:
    prompt, messages = _rendered("period_intro", context)
    return answer_key(llm.model, prompt, messages)


async def intro_to_ask_along(
    runtime: Runtime,
    *,
    kind: str,
    label: str,
    papers: list[Any],
    takeaways: list[str],
    force: bool = False,
) -> IntroAsk | None:
    """The intro to ask in a paper's call, or None when there is nothing to
    ask: offline, no papers, or the same intro is already in the cache."""
    llm = runtime.llm
    if llm is None or not papers:
        return None
    context = _intro_context(kind, label, [_paper_view(p) for p in papers], takeaways)
    key = _intro_key(llm, context)
    if not force:
        stored = await runtime.db(digest_queries.cached_answer, key=key)
        if stored is not None and _as_dict("period_intro", stored) is not None:
            return None
    return IntroAsk(context, key)


async def period_intro(
    runtime: Runtime,
    *,
    kind: str,
    label: str,
    papers: list[Any],
    takeaways: list[str],
    extras: Extras | None = None,
    force: bool = False,
    asked_along: IntroAsk | None = None,
) -> str | None:
    """One paragraph on what the period's papers have in common and what the
    group made of them; None offline, on LLM trouble or when the check drops it.
    The answer is cached (:func:`ask_cached`); ``force`` asks anew. An intro
    that came in a paper's answer (``asked_along``) is cached as if asked on
    its own and checked the same way; without one, it is asked now."""
    llm = runtime.llm
    if llm is None or not papers:
        return None
    extras = extras if extras is not None else Extras()
    views = [_paper_view(p) for p in papers]
    context = _intro_context(kind, label, views, takeaways)
    got: dict[str, Any] | None
    if asked_along is not None and asked_along.answer is not None:
        got = {"intro": asked_along.answer}
        await runtime.db(
            digest_queries.store_answer,
            key=asked_along.key,
            purpose="period_intro",
            model=llm.model,
            answer=json.dumps(got, ensure_ascii=False),
            now=runtime.clock.now(),
        )
    else:
        got = await ask_cached(runtime, llm, "period_intro", extras.records, force=force, **context)
    if not got or not isinstance(got.get("intro"), str):
        return None
    src = Sources(
        texts=(
            kind,
            label,
            *(v["title"] for v in views),
            *(v["abstract"] for v in views),
            *(a for v in views for a in v["authors"]),
            *takeaways,
            *(t for v in views for t in v["takeaways"]),
            *(t for v in views for t in v["discussion"]),
        ),
        messages=tuple(m for v in views for m in v["thread"]),
    )
    text = check_prose(got["intro"], src, extras.drops)
    text = sanitize.one_line(text, allowed_urls=set(), limit=INTRO_LIMIT) if text else ""
    return text or None


async def monthly_why(
    runtime: Runtime,
    *,
    title: str,
    proposer: str,
    reason: str,
    votes: int,
    voters: Sequence[str] = (),
    extras: Extras | None = None,
    force: bool = False,
) -> str | None:
    """A monthly pick's "Why →" rewritten from the proposer's reason and the
    votes only; None offline, without a reason, or when the check drops it."""
    llm = runtime.llm
    if llm is None or not reason.strip():
        return None
    extras = extras if extras is not None else Extras()
    got = await ask_cached(
        runtime,
        llm,
        "monthly_why",
        extras.records,
        force=force,
        title=title,
        proposer=proposer,
        reason=reason,
        votes=votes,
        voters=list(voters),
    )
    if not got or not isinstance(got.get("why"), str):
        return None
    src = Sources(texts=(title, reason, str(votes)), names=(proposer, *voters))
    text = check_prose(got["why"], src, extras.drops)
    text = sanitize.one_line(text, allowed_urls=set(), limit=MONTHLY_WHY_LIMIT) if text else ""
    return text or None
