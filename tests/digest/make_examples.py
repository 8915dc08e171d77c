"""Build docs/examples/ from the seeded quarter: one representative week, the
quarter and one month, each with the LLM (a loopback fake answering from
tests/fixtures/quarter/llm_answers.yaml) and offline. Reproducible: a fresh
SQLite database, a fixed clock (the day after the quarter), no network but
127.0.0.1.

    .venv/bin/python -m tests.digest.make_examples          # write the six files
    .venv/bin/python -m tests.digest.make_examples --check  # exit 1 if they differ

tests/digest/test_post_examples.py runs the check, so the examples stay true.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
from dataclasses import fields
from pathlib import Path
from typing import Any

from bot.app import build_bot
from bot.chat.messenger import NullMessenger
from bot.digest import periods, summaries
from bot.digest.exports import export_month, export_quarter, export_week
from bot.digest.summary_types import Summary
from bot.infra.llm import LlmClient
from bot.infra.settings import Settings
from storage.engine import make_engine, upgrade
from tests.digest.quarter_seed import END, llm_answers, load_quarter, quarter_data
from tests.fakes.openai_fake import OpenAIFake

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "examples"
WEEK, MONTH, QUARTER = "2026-W36", "2026-07", "2026-Q3"
_ARXIV = re.compile(r"^arXiv: (\S+)$", re.M)
#: Whether summaries carry cited takeaways (then "why it matters" is {text, cites}).
_CITES = "why_it_matters_cites" in {f.name for f in fields(Summary)}


class QuarterLlm(OpenAIFake):
    """Answers from llm_answers.yaml what a strong model answers: for a prompt
    about a paper (found by arXiv id or title) its tl;dr, why it matters
    (text and cited takeaways), write-up paragraphs and monthly "why"; for a
    prompt about a period (its label in any form) the period's intro. Each
    caller reads only the keys its prompt asks for."""

    def _summary(self, prompt: str) -> dict[str, Any]:
        answers = llm_answers()
        papers = {p["arxiv_id"]: p for p in quarter_data()["papers"]}
        out: dict[str, Any] = {}
        m = _ARXIV.search(prompt)
        found = m.group(1) if m and m.group(1) in answers["papers"] else None
        if found is None:
            found = next((a for a, p in papers.items() if p["title"] in prompt), None)
        if found is not None:
            entry = answers["papers"][found]
            out.update(entry["tldr"])
            if _CITES:  # the summary keeps the takeaways a why cites: {text, cites}
                out["why_it_matters"] = entry.get("why_it_matters") or None
            out["paragraphs"] = list((entry.get("write_up") or {}).get("paragraphs") or [])
            picks = [p for month in answers["monthly_picks"].values() for p in month]
            why = next((p["why"] for p in picks if p["arxiv_id"] == found), None)
            if why:
                out["why"] = why
        for key, text in _period_intros(answers).items():
            if key in prompt:
                out["intro"] = text
                break
        return out or super()._summary(prompt)


def _period_intros(answers: dict[str, Any]) -> dict[str, str]:
    """Every way a period's label can appear in a prompt -> its intro."""
    out: dict[str, str] = {}
    table = answers["periods"]
    for label, text in table["weeks"].items():
        out[label] = text
    for label, text in table["months"].items():
        out[label] = text
        out[periods.Month.parse(label, now=END).label] = text  # "July 2026"
    for label, text in table["quarter"].items():
        out[label] = text
        out[periods.Quarter.parse(label).label] = text  # "Q3 2026"
    return out


def _settings(url: str) -> Settings:
    return Settings(
        DATABASE_URL=url,
        READGROUP_ORGANIZERS="",
        OPENAI_API_KEY=None,
        _env_file=None,  # type: ignore[call-arg]
    )


async def _exports(db: Path, llm_url: str | None) -> dict[str, str]:
    url = f"sqlite:///{db}"
    engine = make_engine(url)
    upgrade(engine)
    bot = build_bot(_settings(url), engine=engine, messenger=NullMessenger(), migrate=False)
    client = None
    try:
        loaded = load_quarter(bot, now=END)
        del loaded
        if llm_url is not None:
            client = LlmClient(
                base_url=llm_url, api_key="sk-test", model="example-model", timeout=10.0
            )
        summaries.set_llm(bot, client)
        tz = periods.Quarter.parse(QUARTER).tz  # replaced by the group's zone on export
        week = periods.Week.parse(WEEK, now=END, tz=tz)
        month = periods.Month.parse(MONTH, now=END, tz=tz)
        return {
            "weekly": await export_week(bot, week=week),
            "quarterly": await export_quarter(bot, quarter=periods.Quarter.parse(QUARTER)),
            "monthly": await export_month(bot, month=month),
        }
    finally:
        if client is not None:
            await client.aclose()
        await bot.aclose()
        engine.dispose()


async def build() -> dict[str, str]:
    """File name -> Markdown, for all six examples."""
    out: dict[str, str] = {}
    labels = {"weekly": WEEK, "quarterly": QUARTER, "monthly": MONTH}
    with tempfile.TemporaryDirectory() as tmp:
        async with QuarterLlm() as fake:
            with_llm = await _exports(Path(tmp) / "llm.db", fake.url)
        offline = await _exports(Path(tmp) / "offline.db", None)
    for kind, label in labels.items():
        out[f"{kind}-{label}-llm.md"] = with_llm[kind]
        out[f"{kind}-{label}-offline.md"] = offline[kind]
    return out


def differences(built: dict[str, str], where: Path = EXAMPLES) -> list[str]:
    wrong = []
    for name, text in built.items():
        path = where / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            wrong.append(name)
    return wrong


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    built = asyncio.run(build())
    if args.check:
        wrong = differences(built)
        print(json.dumps({"differ": wrong}))
        return 1 if wrong else 0
    EXAMPLES.mkdir(parents=True, exist_ok=True)
    for name, text in built.items():
        (EXAMPLES / name).write_text(text, encoding="utf-8")
        print(f"wrote docs/examples/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
