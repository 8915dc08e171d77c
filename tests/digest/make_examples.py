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
from pathlib import Path
from typing import Any

from bot.app import build_bot
from bot.chat.messenger import NullMessenger
from bot.digest import periods, summaries
from bot.digest.exports import export_month, export_quarter, export_week
from bot.infra.llm import LlmClient
from bot.infra.settings import Settings
from storage.engine import make_engine, upgrade
from tests.digest.quarter_seed import END, llm_answers, load_quarter
from tests.fakes.openai_fake import OpenAIFake

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "examples"
WEEK, MONTH, QUARTER = "2026-W36", "2026-07", "2026-Q3"
_ARXIV = re.compile(r"^arXiv: (\S+)$", re.M)


class QuarterLlm(OpenAIFake):
    """Answers each paper's tl;dr prompt with what llm_answers.yaml says a
    strong model answers; a prompt about a period (an intro) with its intro."""

    def _summary(self, prompt: str) -> dict[str, Any]:
        answers = llm_answers()
        m = _ARXIV.search(prompt)
        if m and m.group(1) in answers["papers"]:
            entry = answers["papers"][m.group(1)]
            out: dict[str, Any] = dict(entry["tldr"])
            return out
        periods_ = answers["periods"]
        for table in ("weeks", "months", "quarter"):
            for label, text in periods_[table].items():
                if label in prompt:
                    return {"intro": text, "text": text}
        return super()._summary(prompt)


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
