"""Counted nouns for user-facing text: ``1 day``, ``3 days``, never ``3 day(s)``."""

from __future__ import annotations


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``count`` and the noun in the form that agrees with it.

    The plural is ``singular + "s"`` unless given (``plural(2, "person", "people")``)."""
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count:,} {word}"
