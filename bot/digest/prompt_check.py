"""``readgroup prompts check``: render every prompt and post template with
sample data, so a broken edit in ``prompts/`` fails here, not in a live draft."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bot.chat.markup import parse
from bot.infra import prompts
from bot.infra.settings import Settings

_PAPER: dict[str, Any] = {
    "title": "Attention Is All You Need",
    "abs_url": "https://arxiv.org/abs/1706.03762",
    "link_line": prompts.Markup("[PDF](https://arxiv.org/pdf/1706.03762)"),
    "links": prompts.Markup(
        "[paper](https://arxiv.org/abs/1706.03762) [pdf](https://arxiv.org/pdf/1706.03762)"
    ),
    "all_authors": "Ashish Vaswani, Noam Shazeer and Niki Parmar",
    "paragraphs": ["The Transformer replaces recurrence with attention.", "It trains faster."],
    "day": "Wed 18 Nov",
    "read": {
        "held": True,
        "presenter": "Alice",
        "date": "18 November",
        "takeaways": "“It scales.” — Bob",
    },
    "talk": ["Bob doubted it scales."],
    "source": "https://arxiv.org/pdf/1706.03762",
    "code_links": ["https://github.com/tensorflow/tensor2tensor"],
    "authors": "Ashish Vaswani, Noam Shazeer, Niki Parmar et al.",
    "presenter": "Alice",
    "date": "18 November 2026",
    "tldr": "The Transformer replaces recurrence with attention. It trains faster and "
    "translates better.",
    "summary": "The Transformer replaces recurrence with attention.",
    "offline": False,
    "key_insights": ["Self-attention connects all positions.", "Training parallelises well."],
    "why_it_matters": "We could drop our RNN encoder.",
    "why": "It changed the field.",
    "meaning": "We could drop our RNN encoder.",
    "takeaways": [{"text": "We could drop our RNN encoder.", "by": "Bob"}],
    "proposer": "Bob",
    "votes": "3 votes",
}

#: Sample context for each file; a new template needs an entry (the check says so).
SAMPLES: dict[str, dict[str, Any]] = {
    "tldr": {
        "title": _PAPER["title"],
        "authors": _PAPER["authors"],
        "arxiv_id": "1706.03762",
        "abstract": "The dominant sequence transduction models are based on RNNs.",
        "takeaways": ["We could drop our RNN encoder."],
        "discussion": [],
        "thread": [{"by": "Bob", "text": "Does it scale?"}],
        "members": ["Alice", "Bob"],
        # The week's intro asked in the same call (None when it is not).
        "period": {
            "kind": "week",
            "label": "2026-W47",
            "papers": [{"title": _PAPER["title"], "abstract": "Attention replaces recurrence."}],
            "takeaways": ["We could drop our RNN encoder."],
        },
    },
    "write_up": {
        "title": _PAPER["title"],
        "authors": _PAPER["authors"],
        "arxiv_id": "1706.03762",
        "abstract": "The dominant sequence transduction models are based on RNNs.",
        "tldr": _PAPER["tldr"],
        "key_insights": _PAPER["key_insights"],
        "why_it_matters": _PAPER["why_it_matters"],
        "takeaways": ["We could drop our RNN encoder."],
        "thread": [{"by": "Bob", "text": "Does it scale?"}],
        "discussion": [],
        "members": ["Alice", "Bob"],
    },
    "period_intro": {
        "kind": "weekly post",
        "label": "2026-W47",
        "papers": [{"title": _PAPER["title"], "abstract": "Attention replaces recurrence."}],
        "takeaways": ["We could drop our RNN encoder."],
    },
    "monthly_why": {
        "title": _PAPER["title"],
        "proposer": "Bob",
        "reason": "It changed the field.",
        "votes": 3,
        "voters": ["Alice", "Carol"],
    },
    "weekly_post": {
        "week": {
            "label": "2026-W47",
            "date_label": "16–22 November 2026",
            "title_date": "19 November 2026",
        },
        "intro": "This week the group read one paper.",
        "papers": [_PAPER],
        "also": [_PAPER],
        "coming": [{**_PAPER, "when": "Thu 3 Dec"}],
        "offline_note": "The summary of Attention Is All You Need is taken from the abstract.",
        "closing": "That's all for this week.",
    },
    "quarterly_digest": {
        "group_name": "ML Team",
        "about": "ML engineers who read one paper a week.",
        "date_line": "2 January 2027",
        "quarter": {"label": "Q4 2026"},
        "intro": "In Q4 2026 the group met once.",
        "papers": [_PAPER],
        "coming": [{**_PAPER, "when": "Thu 3 Dec"}],
        "offline_note": "",
        "cancelled": "The session on 10 December was cancelled.",
        "closing": "Thanks to everyone who presented.",
    },
    "monthly_picks": {
        "group_name": "ML Team",
        "month_label": "November 2026",
        "intro": "Our picks of the month.",
        "papers": [_PAPER],
        "offline_note": "",
        "closing": "See you next month.",
    },
}

_REQUIRED = {"prompt": ("system",), "template": ("title",)}


def check(name: str) -> tuple[str, str]:
    """Render one file with its sample; returns (version, first output line).
    Raises :class:`prompts.PromptError` with what is wrong."""
    file = prompts.load(name)
    for key in _REQUIRED.get(file.kind, ()):
        if not file.meta.get(key):
            raise prompts.PromptError(f"prompts/{name}.md front matter needs '{key}:'")
    if name not in SAMPLES:
        raise prompts.PromptError(
            f"prompts/{name}.md has no sample data; "
            "add one to SAMPLES in bot/digest/prompt_check.py"
        )
    out = file.render(**SAMPLES[name])
    if not out.strip():
        raise prompts.PromptError(f"prompts/{name}.md renders to nothing")
    if file.kind == "template":
        parse(out)  # neutral markup must parse
        from bot.digest.render import title_of

        title_of(file, SAMPLES[name])
    return file.version, out.strip().splitlines()[0][:70]


def run_check(out: Any = None) -> int:
    out = out or sys.stdout
    failed = 0
    for name in prompts.names():
        try:
            version, first = check(name)
        except prompts.PromptError as exc:
            failed += 1
            print(f"FAIL {name}: {exc}", file=out)
            continue
        print(f"ok   {name} (version {version}): {first}", file=out)
    return 1 if failed else 0


def run(args: argparse.Namespace, settings: Settings) -> int:
    prompts.load.cache_clear()
    return run_check()
