"""A long "This Week in ML" text of our own writing, for the renderers' limits.

Paragraphs are built from a small vocabulary of sentences written for these
tests (short and long paragraphs, backticks, asterisks, ``<`` and ``&``), with
one paragraph of single-newline lines near the middle that is longer than any
Slack section or Discord embed, so splitting inside a paragraph is exercised
as well as between paragraphs. Deterministic, and independent of the code:
an earlier version read the project's docstrings, so editing a docstring
changed what the render tests checked.
"""

from __future__ import annotations

import random
from functools import cache

LONG_PARAGRAPH = 6_000  # > Slack's 3,000-char section and Discord's 4,096 description
PARAGRAPHS = 160

SENTENCES = (
    "The group compared the method with a plain baseline on the same budget.",
    "Its main claim is that `attention` over retrieved passages beats a larger model.",
    "Training used 8 GPUs for three days & a learning rate of 3e-4.",
    "The ablation drops the *gating* step and loses most of the gain.",
    "Scores are reported as mean < 0.5 standard deviations across five seeds.",
    "Several members asked whether the benchmark leaks into pre-training data.",
    "The appendix gives the full hyper-parameter table and the data filters.",
    "A smaller variant fits on one card and keeps nine tenths of the accuracy.",
    "The presenter walked through the loss in section 3, term by term.",
    "Nobody was convinced by the scaling plot: it has three points.",
    "Code and checkpoints are released under a permissive licence.",
    "The related-work section misses two papers the group read last month.",
)


@cache
def paragraphs() -> tuple[str, ...]:
    """The post's paragraphs, the same on every run."""
    rng = random.Random(2026)
    out = [
        f"{n + 1}. " + " ".join(rng.choice(SENTENCES) for _ in range(rng.randint(1, 9)))
        for n in range(PARAGRAPHS)
    ]
    lines: list[str] = []
    while sum(len(line) + 1 for line in lines) < LONG_PARAGRAPH:
        lines.append(f"- line {len(lines) + 1}: {SENTENCES[len(lines) % len(SENTENCES)]}")
    out.insert(len(out) // 4, "\n".join(lines))
    return tuple(out)


def text(size: int) -> str:
    """At least ``size`` characters of paragraphs joined by blank lines, cut at ``size``."""
    out = "\n\n".join(paragraphs())
    assert len(out) >= size, f"only {len(out)} characters of paragraphs; ask for less"
    return out[:size]
