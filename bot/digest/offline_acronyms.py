"""Acronyms in an offline summary: a summary is made of the abstract's
sentences out of their order, so the sentence that defines an acronym ("Mutation
Testing (MT)") may be left out or come later. The first use of an acronym in
the summary is then written out as the abstract defines it ("mutation testing
(MT)"), and a later definition in the summary loses its brackets, so every
acronym is explained once, where the reader first meets it.

Written here rather than taken from a library: the abbreviation finders
(scispacy's Schwartz–Hearst detector, for instance) bring spaCy and its models,
hundreds of megabytes, for the few lines of the same algorithm below.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

#: "words (ACR)" or "words (ACRs)": an acronym of 2–6 letters, capitals first.
_DEFINED = re.compile(r"\(([A-Z][A-Za-z]{0,2}[A-Z]s?|[A-Z]{2,6})\)")
_WORD = re.compile(r"[A-Za-z][A-Za-z\-]*")


def _initials(word: str) -> str:
    return "".join(part[0] for part in word.split("-") if part).lower()


def definitions(text: str) -> dict[str, str]:
    """Acronym → the words the text defines it with (Schwartz–Hearst's rule,
    simplified: the shortest run of words before the brackets whose initials,
    hyphenated parts counted, spell the acronym)."""
    found: dict[str, str] = {}
    for m in _DEFINED.finditer(text):
        acronym = m.group(1)
        letters = acronym.rstrip("s").lower() if acronym[-1] == "s" else acronym.lower()
        words = _WORD.findall(text[max(0, m.start() - 120) : m.start()])
        for n in range(1, min(len(words), len(letters) + 1) + 1):
            run = words[-n:]
            if "".join(_initials(w) for w in run) == letters:
                phrase = " ".join(run)
                before = text[: m.start()].rstrip()[: -len(phrase)].rstrip()
                opens_sentence = not before or before.endswith((".", "!", "?"))
                if opens_sentence and all(w[:1].islower() for w in run[1:]):
                    phrase = phrase[0].lower() + phrase[1:]  # capitalised only as a sentence start
                found.setdefault(acronym, phrase)
                break
    return found


def _cased(words: str, at_start: bool) -> str:
    return words[0].upper() + words[1:] if at_start else words


def explain_on_first_use(parts: Sequence[str], source: str) -> list[str]:
    """``parts`` (the summary's sentences, in the order shown) with each
    acronym the source defines written out where it first appears."""
    defs = definitions(source)
    if not defs:
        return list(parts)
    seen: set[str] = set()
    out: list[str] = []
    for part in parts:
        for acronym, words in defs.items():
            defined = re.compile(rf"{re.escape(words)}\s*\({re.escape(acronym)}\)", re.I)
            bare = re.compile(rf"(?<![\w(]){re.escape(acronym)}(?![\w)])")
            if acronym in seen:
                part = defined.sub(lambda m: m.group(0).split("(")[0].rstrip(), part)
                continue
            if defined.search(part):
                seen.add(acronym)
                continue
            m = bare.search(part)
            if m is None:
                continue
            words_in = _cased(words, m.start() == 0)
            if part[m.end() :].startswith(" ("):  # "TCP (multiple builds…)": no "(TCP) ("
                part = part[: m.start()] + words_in + part[m.end() :]
                continue  # written out here; its brackets come with the next use
            part = part[: m.start()] + f"{words_in} ({acronym})" + part[m.end() :]
            seen.add(acronym)
        out.append(part)
    return out
