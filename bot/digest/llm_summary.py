"""The LLM's structured summary of one paper: the prompt, validation of the
answer (one retry told what was wrong), sanitising it, and keeping "why it
matters" only when it is drawn from the group's takeaways."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from bot.chat import sanitize
from bot.digest.offline_summary import STOP_WORDS
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
    said = set(_CONTENT_WORD.findall(" ".join(takeaways).lower())) - STOP_WORDS
    words = set(_CONTENT_WORD.findall(why.lower())) - STOP_WORDS
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
