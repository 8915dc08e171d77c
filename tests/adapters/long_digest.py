"""A long "This Week in ML" text of our own writing, for the renderers' limits.

It is made from the docstrings of ``bot/``, ``adapters/`` and ``storage/``,
paragraph by paragraph (short and long ones, backticks, asterisks, ``<`` and
``&``), with one paragraph of single-newline lines near the middle that is
longer than any Slack section or Discord embed, so splitting inside a
paragraph is exercised as well as between paragraphs. Deterministic.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "adapters", "storage")
LONG_PARAGRAPH = 6_000  # > Slack's 3,000-char section and Discord's 4,096 description


@cache
def paragraphs() -> tuple[str, ...]:
    """Every docstring paragraph of our packages, in file order."""
    out: list[str] = []
    firsts: list[str] = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not isinstance(
                    node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef
                ):
                    continue
                doc = ast.get_docstring(node)
                if not doc:
                    continue
                out.extend(p.strip() for p in doc.split("\n\n") if p.strip())
                firsts.append(f"- {path.relative_to(ROOT)}: {doc.splitlines()[0]}")
    lines: list[str] = []
    while sum(len(line) + 1 for line in lines) < LONG_PARAGRAPH:
        lines.append(firsts[len(lines) % len(firsts)])
    out.insert(len(out) // 4, "\n".join(lines))
    return tuple(out)


def text(size: int) -> str:
    """At least ``size`` characters of paragraphs joined by blank lines, cut at ``size``."""
    out = "\n\n".join(paragraphs())
    assert len(out) >= size, f"only {len(out)} characters of docstrings; ask for less"
    return out[:size]
