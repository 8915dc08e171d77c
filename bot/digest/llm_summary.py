"""The LLM's structured summary of one paper and its write-up: the prompts,
validation of the answer (one retry told what was wrong), sanitising it, and
the grounding check (:mod:`bot.digest.grounding`): "why it matters" is kept
only when it cites the group's takeaways, and no sentence may bring in a
number, name, link or quotation its inputs do not have."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from bot.chat import sanitize
from bot.digest import grounding
from bot.digest.grounding import Drops, Sources
from bot.digest.period_prose import IntroAsk
from bot.digest.summary_types import (
    INSIGHT_LIMIT,
    TLDR_LIMIT,
    WHY_LIMIT,
    PaperInput,
    Summary,
    sentences,
)
from bot.infra import prompts
from bot.infra.llm import CallRecord, LlmClient, LlmError

log = logging.getLogger(__name__)


class LlmOutput(BaseModel):
    """What the model must return (validated; anything else is invalid output)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    tldr: str
    key_insights: list[str]
    why_it_matters: str | dict[str, Any] | None = None
    #: The write-up, asked in the same call when the paper has a thread (one
    #: round of waiting on the model instead of two); absent or not a list of
    #: strings: the write-up is asked separately.
    paragraphs: list[Any] | None = None
    #: The period's intro, when the call asked for it (:class:`IntroAsk`).
    intro: Any = None

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
    def _blank_is_none(cls, v: str | dict[str, Any] | None) -> str | dict[str, Any] | None:
        text = v.get("text") if isinstance(v, dict) else v
        if not isinstance(text, str) or not text.strip():
            return None
        if text.strip().lower() in {"null", "none", "n/a"}:
            return None
        return v

    @property
    def why(self) -> tuple[str | None, Any]:
        """(text, cites) of "why it matters" (a bare string cites nothing)."""
        v = self.why_it_matters
        if isinstance(v, dict):
            return str(v.get("text") or "").strip() or None, v.get("cites")
        return v, None


def messages_for(
    p: PaperInput, intro: IntroAsk | None = None
) -> tuple[list[dict[str, str]], prompts.PromptFile]:
    prompt = prompts.load("tldr")
    user = prompt.render(
        title=p.title or f"arXiv:{p.arxiv_id}",
        authors=", ".join(p.authors),
        arxiv_id=p.arxiv_id,
        abstract=p.abstract,
        takeaways=list(p.takeaways),
        discussion=[] if p.thread else list(p.discussion[-20:]),
        thread=[{"by": a, "text": t} for a, t in p.thread[-30:]],
        members=list(p.members),
        period=intro.context if intro is not None else None,
    )
    system = str(prompt.meta.get("system", "")).strip()
    return [{"role": "system", "content": system}, {"role": "user", "content": user}], prompt


def sources_of(p: PaperInput) -> Sources:
    """What a paper's calls are given: its record, takeaways, thread and members."""
    return Sources(
        texts=(
            p.title,
            p.arxiv_id,
            p.abstract,
            p.comment,
            *p.links,
            *p.takeaways,
            *p.discussion,
        ),
        messages=p.thread,
        names=(*p.authors, *p.members),
    )


def to_summary(
    out: LlmOutput,
    p: PaperInput,
    *,
    model: str,
    prompt_version: str,
    drops: Drops | None = None,
) -> Summary:
    """Sanitise a validated model answer, drop what its inputs do not ground,
    and keep "why it matters" only when it cites a takeaway."""
    drops = drops if drops is not None else Drops()
    trial = Drops()  # a summary that fails here is retried: count its drops once
    src = sources_of(p)
    allowed = p.allowed_urls

    def clean(text: str, limit: int) -> str:
        kept = grounding.check_prose(text, src, trial)
        return sanitize.one_line(kept, allowed_urls=allowed, limit=limit) if kept else ""

    tldr = clean(out.tldr, TLDR_LIMIT)
    insights = tuple(x for x in (clean(k, INSIGHT_LIMIT) for k in out.key_insights) if x)
    text, cites = out.why
    why, why_cites = grounding.check_why(text, cites, p.takeaways, src, trial)
    if why:
        why = sanitize.one_line(why, allowed_urls=allowed, limit=WHY_LIMIT) or None
    if not tldr or len(insights) < 2:
        raise ValueError("after removing unsafe or ungrounded content the summary is too thin")
    drops.add(trial)
    return Summary(
        tldr,
        insights,
        why,
        "llm",
        model,
        prompt_version,
        why_it_matters_cites=why_cites if why else (),
    )


async def summarize_with_llm(
    llm: LlmClient,
    p: PaperInput,
    records: list[CallRecord],
    drops: Drops | None = None,
    intro: IntroAsk | None = None,
) -> Summary | None:
    """The model's summary, or None (the caller uses the offline one). Invalid
    output gets exactly one retry, told what was wrong. With ``intro``, the
    same call asks for the period's intro and leaves it in ``intro.answer``."""
    messages, prompt = messages_for(p, intro)
    for attempt in (1, 2):
        try:
            completion = await llm.complete_prompt(prompt.meta, messages, records=records)
        except LlmError as exc:
            log.info("LLM gave no summary for arXiv:%s: %s", p.arxiv_id, exc)
            return None
        try:
            out = LlmOutput.model_validate(grounding.json_object(completion.content))
            s = to_summary(out, p, model=llm.model, prompt_version=prompt.version, drops=drops)
            if intro is not None and isinstance(out.intro, str) and out.intro.strip():
                intro.answer = out.intro
            return _with_write_up(s, out, p, drops)
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
                    'the JSON object {"tldr": ..., "key_insights": [...], "why_it_matters": '
                    '{"text": ..., "cites": [...]} or null}.',
                },
            ]
    return None


def _with_write_up(s: Summary, out: LlmOutput, p: PaperInput, drops: Drops | None) -> Summary:
    """The summary with the write-up the same answer gave (checked like one
    asked on its own); unchanged when there is no thread or no usable list."""
    if not p.thread or not isinstance(out.paragraphs, list):
        return s
    texts = [x for x in out.paragraphs if isinstance(x, str) and x.strip()]
    if not texts:
        return s
    kept = grounding.check_paragraphs(texts, sources_of(p), drops if drops is not None else Drops())
    return dataclasses.replace(s, write_up=kept) if kept else s


def write_up_messages(p: PaperInput, s: Summary) -> tuple[list[dict[str, str]], prompts.PromptFile]:
    prompt = prompts.load("write_up")
    user = prompt.render(
        title=p.title or f"arXiv:{p.arxiv_id}",
        authors=", ".join(p.authors),
        arxiv_id=p.arxiv_id,
        abstract=p.abstract,
        tldr=s.tldr,
        key_insights=list(s.key_insights),
        why_it_matters=s.why_it_matters or "",
        takeaways=list(p.takeaways),
        thread=[{"by": a, "text": t} for a, t in p.thread[-30:]],
        discussion=[] if p.thread else list(p.discussion[-20:]),
        members=list(p.members),
    )
    system = str(prompt.meta.get("system", "")).strip()
    return [{"role": "system", "content": system}, {"role": "user", "content": user}], prompt


async def write_up_with_llm(
    llm: LlmClient,
    p: PaperInput,
    s: Summary,
    records: list[CallRecord],
    drops: Drops | None = None,
) -> tuple[str, ...] | None:
    """The checked write-up (0-3 paragraphs), or None when the call failed
    (nothing to cache; the post falls back)."""
    messages, prompt = write_up_messages(p, s)
    try:
        completion = await llm.complete_prompt(prompt.meta, messages, records=records)
        got = grounding.json_object(completion.content)
    except (LlmError, ValueError) as exc:
        log.info("LLM gave no write-up for arXiv:%s: %s", p.arxiv_id, exc)
        return None
    paragraphs = got.get("paragraphs") if isinstance(got, dict) else None
    if not isinstance(paragraphs, list):
        log.info("invalid write-up for arXiv:%s: no paragraphs list", p.arxiv_id)
        return None
    return grounding.check_paragraphs(
        [x for x in paragraphs if isinstance(x, str)],
        sources_of(p),
        drops if drops is not None else Drops(),
    )


def _describe(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
    return str(exc)
