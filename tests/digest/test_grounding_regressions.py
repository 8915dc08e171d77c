"""Regressions of the grounding check through the API that existed before it
(``LlmOutput`` and ``to_summary``), so each fails with an assertion, not an
import error, on the old code."""

from __future__ import annotations

from typing import Any

from bot.digest.llm_summary import LlmOutput, to_summary
from bot.digest.summary_types import PaperInput
from tests.fixtures import ROOT as FIXTURES_ROOT
from tests.fixtures import read_yaml

QUARTER = FIXTURES_ROOT / "quarter"


def _load(name: str) -> Any:
    return read_yaml(QUARTER / name)


def _input(arxiv_id: str) -> PaperInput:
    q = _load("quarter.yaml")
    p = next(x for x in q["papers"] if x["arxiv_id"] == arxiv_id)
    who = {m["key"]: m["display_name"] for m in q["members"]}
    msgs = [
        m
        for s in q["sessions"]
        if s.get("arxiv_id") == arxiv_id and s["status"] == "done"
        for m in s.get("messages") or ()
    ]
    fields: dict[str, Any] = {
        "paper_id": 1,
        "arxiv_id": arxiv_id,
        "version": p.get("version"),
        "title": p["title"],
        "authors": tuple(p["authors"]),
        "abstract": p["abstract"],
        "takeaways": tuple(m["text"] for m in msgs if m.get("takeaway")),
        "discussion": tuple(m["text"] for m in msgs),
    }
    if "thread" in PaperInput.__dataclass_fields__:
        fields["thread"] = tuple((who[m["by"]], m["text"]) for m in msgs)
    return PaperInput(**fields)


def _good(arxiv_id: str) -> dict[str, Any]:
    return dict(_load("llm_answers.yaml")["papers"][arxiv_id]["tldr"])


def test_a_faithful_paraphrase_citing_its_takeaway_is_kept() -> None:
    pair = next(p for p in _load("why_it_matters_pairs.yaml")["pairs"] if p["id"] == 6)
    out = {**_good(pair["arxiv_id"]), "why_it_matters": {"text": pair["text"], "cites": [3]}}
    s = to_summary(
        LlmOutput.model_validate(out), _input(pair["arxiv_id"]), model="m", prompt_version="v"
    )
    assert s.why_it_matters == pair["text"]


def test_an_insight_with_a_number_in_no_input_is_dropped() -> None:
    bad = next(b for b in _load("llm_answers.yaml")["bad"] if b["kind"] == "number_not_in_inputs")
    out = _good(bad["arxiv_id"])
    out["key_insights"] = [*out["key_insights"][:2], bad["sentence"]]
    s = to_summary(
        LlmOutput.model_validate(out), _input(bad["arxiv_id"]), model="m", prompt_version="v"
    )
    assert s.key_insights == tuple(out["key_insights"][:2])


def test_an_insight_with_a_quote_that_is_not_verbatim_is_dropped() -> None:
    bad = next(b for b in _load("llm_answers.yaml")["bad"] if b["kind"] == "quote_not_verbatim")
    out = _good(bad["arxiv_id"])
    out["key_insights"] = [*out["key_insights"][:2], bad["paragraph"]]
    s = to_summary(
        LlmOutput.model_validate(out), _input(bad["arxiv_id"]), model="m", prompt_version="v"
    )
    assert s.key_insights == tuple(out["key_insights"][:2])


def test_an_insight_naming_someone_in_no_input_is_dropped() -> None:
    bad = next(b for b in _load("llm_answers.yaml")["bad"] if b["kind"] == "name_not_in_inputs")
    out = _good(bad["arxiv_id"])
    out["key_insights"] = [*out["key_insights"][:2], bad["sentence"]]
    s = to_summary(
        LlmOutput.model_validate(out), _input(bad["arxiv_id"]), model="m", prompt_version="v"
    )
    assert s.key_insights == tuple(out["key_insights"][:2])
