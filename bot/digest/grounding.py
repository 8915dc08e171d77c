"""The grounding check of everything the model writes for a post.

A quotation (text in “…” or "…") is kept only when it is a verbatim substring
of a stored thread message (whitespace, quote and dash styles normalised) and
is attributed (``— Name``) to that message's author; otherwise the sentence
holding it is dropped. Any other sentence that introduces a number, a
capitalised name or a link that is not in the model's inputs is dropped.
"Why it matters" is kept only when it cites at least one takeaway by its
number. Every drop is counted (:class:`Drops`) for the draft's cost line.

The model calls for the period intro and the monthly "Why →" are in
:mod:`bot.digest.period_prose`; the per-paper write-up is in
:mod:`bot.digest.llm_summary`.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.chat import sanitize
from bot.digest.offline_summary import STOP_WORDS
from bot.digest.summary_types import sentences

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)

PARAGRAPH_LIMIT = 1200


@dataclass
class Drops:
    """What the grounding check removed from one draft."""

    quotes_dropped: int = 0
    sentences_dropped: int = 0

    def add(self, other: Drops) -> None:
        self.quotes_dropped += other.quotes_dropped
        self.sentences_dropped += other.sentences_dropped

    def __bool__(self) -> bool:
        return bool(self.quotes_dropped or self.sentences_dropped)

    def note(self) -> str:
        """For the cost line: "1 quote and 2 sentences dropped by the grounding check"."""
        parts = []
        if self.quotes_dropped:
            n = self.quotes_dropped
            parts.append(f"{n} quote{'s' if n != 1 else ''}")
        if self.sentences_dropped:
            n = self.sentences_dropped
            parts.append(f"{n} sentence{'s' if n != 1 else ''}")
        return f"{' and '.join(parts)} dropped by the grounding check" if parts else ""


# -- normalisation -----------------------------------------------------------

_QUOTES = str.maketrans(
    "\u201c\u201d\u201e\u201f\u00ab\u00bb\u2018\u2019\u201a\u201b"
    "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u00a0",
    '""""""\'\'\'\'------- ',
)


def normalise(text: str) -> str:
    """Whitespace, quote and dash styles only (``--`` is a dash too)."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    text = re.sub(r"-{2,}", "-", text.replace("``", '"').replace("''", '"'))
    return " ".join(text.split())


# -- what the model was given --------------------------------------------------


@dataclass(frozen=True)
class Sources:
    """Everything one model call saw: free texts, thread messages with their
    authors, and the names of people (members, authors)."""

    texts: tuple[str, ...] = ()
    messages: tuple[tuple[str, str], ...] = ()  # (author's display name, text)
    names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        blob = normalise(
            " ".join((*self.texts, *(t for _, t in self.messages), *self.names, *self._authors()))
        )
        object.__setattr__(self, "_blob", blob)
        object.__setattr__(self, "_numbers", set(_NUMBER.findall(blob)))
        words = set(_WORDS.findall(blob))
        object.__setattr__(self, "_words", words)
        object.__setattr__(self, "_lower", {w.lower() for w in words})
        object.__setattr__(self, "_stems", {stem(w) for w in words})

    def _authors(self) -> list[str]:
        return [a for a, _ in self.messages]

    def has_number(self, n: str) -> bool:
        return n in self._numbers  # type: ignore[attr-defined]

    def has_word(self, w: str) -> bool:
        return w in self._words  # type: ignore[attr-defined]

    def has_lower(self, w: str) -> bool:
        return w.lower() in self._lower  # type: ignore[attr-defined]

    def has_stem(self, w: str) -> bool:
        """The word in other letter case or another inflection ("Pools", "pooled")."""
        return stem(w) in self._stems  # type: ignore[attr-defined]

    def has_link(self, url: str) -> bool:
        return url.rstrip(".,;:)") in self._blob  # type: ignore[attr-defined]

    def quote_ok(self, quote: str, by: str | None) -> bool:
        """Verbatim in a message written by ``by``."""
        if not by:
            return False
        q = normalise(quote).strip(" .,;:!?…")
        who = normalise(by).casefold()
        if len(q) < 2:
            return False
        return any(
            normalise(author).casefold() == who and q in normalise(text)
            for author, text in self.messages
        )


_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_WORDS = re.compile(r"[A-Za-z](?:[A-Za-z']*[A-Za-z])?")
_CAPITAL = re.compile(r"\b[A-Z](?:[A-Za-z']*[A-Za-z])?")
_LINK = re.compile(r"https?://\S+|www\.\S+|\b[\w-]+\.(?:com|org|net|io|ai|dev|edu|gov)\b\S*", re.I)
_NAME = r"[A-Z][\w'-]*(?:\s[A-Z][\w'-]*)?"
_QUOTE = re.compile(
    r"[“\"]([^“”\"]{2,}?)[”\"](?:\s*,?\s*[—–-]{1,2}\s*(" + _NAME + r"))?",
)

#: Capitalised words that are always fine (calendar words, pronoun I).
_ALWAYS = frozenset(
    """I January February March April May June July August September October November
    December Monday Tuesday Wednesday Thursday Friday Saturday Sunday""".split()  # noqa: SIM905
)
_COMMON = STOP_WORDS | frozenset(
    """a an the this that these those it its they their there then than one two three four
    five six seven eight nine ten first second third last next some many most several each
    every both neither either not no nobody everyone someone anyone none all any what which
    who whose how why when where while though although because since after before once
    over under with without within across along among between beyond into onto upon from
    for and but or nor yet so if unless whether as at by of on in to up down out off still
    even also only just instead rather perhaps maybe much more less few fewer its his her
    our your my we you he she him them us me others another such same other besides however
    moreover overall together here indeed finally meanwhile unlike like despite thus hence
    whereas back again today later earlier soon often sometimes around throughout""".split()  # noqa: SIM905
)


#: Endings of ordinary words (not names) that may start a sentence capitalised.
_ORDINARY = re.compile(
    r"[a-z](?:ing|ings|ed|tion|tions|sion|ment|ments|ness|ity|ities|ies|ly|ive|ives|ous|able|"
    r"ible|ance|ence|ers|ists|ics|ful|less|ise|ize|ises|izes|etric|istic|ical|atic)$"
)


def _mask_quotes(text: str) -> tuple[str, list[tuple[str, str | None, str]]]:
    """Replace each quotation (and its attribution) with a placeholder, so the
    sentence splitter does not cut inside a quote."""
    found: list[tuple[str, str | None, str]] = []

    def repl(m: re.Match[str]) -> str:
        found.append((m.group(1), m.group(2), m.group(0)))
        return f"QUOTE{len(found) - 1}Z"

    return _QUOTE.sub(repl, text), found


_PLACEHOLDER = re.compile(r"QUOTE(\d+)Z")


def _novel(sentence: str, src: Sources) -> str | None:
    """What in this sentence (quotes already removed) is not in the inputs."""
    for url in _LINK.findall(sentence):
        if not src.has_link(url):
            return f"link {url}"
    clean = normalise(sentence)
    for n in _NUMBER.findall(clean):
        if not src.has_number(n):
            return f"number {n}"
    first = True
    for m in _CAPITAL.finditer(clean):
        w = m.group(0).rstrip("'")
        initial = first and m.start() == len(clean) - len(clean.lstrip(" \"'(“‘"))
        first = False
        if w.endswith("'s"):
            w = w[:-2]
        if w in _ALWAYS or src.has_word(w):
            continue
        if w.lower() in _COMMON:
            continue
        if src.has_stem(w) or (initial and _ORDINARY.search(w)):
            continue  # an ordinary word that starts the sentence
        return f"name {w}"
    return None


def check_prose(text: str, src: Sources, drops: Drops) -> str:
    """The text with every ungrounded sentence dropped (and counted); kept
    quotations are rewritten as “…” — Name."""
    masked, quotes = _mask_quotes(" ".join(text.split()))
    kept: list[str] = []
    for s in sentences(masked):
        bad_quote = False
        for i in map(int, _PLACEHOLDER.findall(s)):
            quote, by, _raw = quotes[i]
            if not src.quote_ok(quote, by):
                bad_quote = True
        if bad_quote:
            drops.quotes_dropped += 1
            log.info("grounding: dropped a sentence with an unverified quote: %s", s[:200])
            continue
        reason = _novel(_PLACEHOLDER.sub(" ", s), src)
        if reason is not None:
            drops.sentences_dropped += 1
            log.info("grounding: dropped a sentence (%s): %s", reason, s[:200])
            continue
        kept.append(
            _PLACEHOLDER.sub(
                lambda m: f"“{quotes[int(m.group(1))][0].strip()}” — {quotes[int(m.group(1))][1]}",
                s,
            )
        )
    return " ".join(kept)


def check_paragraphs(
    paragraphs: Iterable[str], src: Sources, drops: Drops, *, limit: int = 3
) -> tuple[str, ...]:
    out = []
    for para in paragraphs:
        kept = check_prose(str(para), src, drops)
        kept = sanitize.one_line(kept, allowed_urls=set(), limit=PARAGRAPH_LIMIT) if kept else ""
        if kept:
            out.append(kept)
    return tuple(out[:limit])


# -- "why it matters" ------------------------------------------------------------


def valid_cites(cites: Any, n: int) -> tuple[int, ...]:
    """The cited takeaway numbers that exist (1..n), in order, once each."""
    if not isinstance(cites, list | tuple):
        return ()
    out: list[int] = []
    for c in cites:
        if isinstance(c, bool):
            continue
        try:
            k = int(c)
        except (TypeError, ValueError):
            continue
        if 1 <= k <= n and k not in out:
            out.append(k)
    return tuple(out)


_STEM_SUFFIXES = (
    "ations",
    "ation",
    "ments",
    "ment",
    "ings",
    "ing",
    "ness",
    "ities",
    "ity",
    "ies",
    "ied",
    "ers",
    "er",
    "ed",
    "es",
    "ly",
    "s",
    "e",
)


def stem(word: str) -> str:
    """A crude stem: lower case, common suffixes off, at most six letters."""
    w = word.lower()
    for suf in _STEM_SUFFIXES:
        if len(w) - len(suf) >= 4 and w.endswith(suf):
            w = w[: -len(suf)]
            break
    return w[:6]


_CONTENT = re.compile(r"[a-z][a-z-]{3,}")


def _stems(text: str) -> set[str]:
    words = _CONTENT.findall(normalise(text).lower())
    return {stem(p) for w in words for p in w.split("-") if len(p) >= 4 and p not in _COMMON}


def shares_content(text: str, cited: Sequence[str]) -> bool:
    """Whether ``text`` shares at least one content stem with the cited takeaways."""
    return bool(_stems(text) & _stems(" ".join(cited)))


def check_why(
    text: str | None,
    cites: Any,
    takeaways: Sequence[str],
    src: Sources,
    drops: Drops,
    *,
    require_overlap: bool = False,
) -> tuple[str | None, tuple[int, ...]]:
    """Keep "why it matters" when it cites at least one real takeaway (and,
    with ``require_overlap``, shares content with what it cites)."""
    if not text or not takeaways:
        return None, ()
    numbers = valid_cites(cites, len(takeaways))
    if not numbers:
        return None, ()
    if require_overlap and not shares_content(text, [takeaways[k - 1] for k in numbers]):
        return None, ()
    kept = check_prose(text, src, drops)
    return (kept or None), (numbers if kept else ())


# -- model calls for the period intro and the monthly "Why →" --------------------


def json_object(content: str) -> Any:
    """The JSON object in a model's reply (tolerating code fences or a
    preamble, which endpoints without ``response_format`` often add)."""
    text = content.strip()
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        raise ValueError("the reply contains no JSON object")
    return json.loads(text[start : end + 1])
