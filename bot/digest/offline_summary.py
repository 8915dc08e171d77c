"""The offline extractive summary: used without an LLM key, when the LLM
fails or gives invalid output twice, and for papers whose abstract has not
been fetched yet. Deterministic, made only of the abstract's own sentences."""

from __future__ import annotations

import math
import re
from collections import Counter

from bot.chat import sanitize
from bot.digest.offline_acronyms import explain_on_first_use
from bot.digest.offline_latex import readable
from bot.digest.offline_prose import standalone, third_person
from bot.digest.summary_types import (
    INSIGHT_LIMIT,
    OFFLINE_MODEL,
    TLDR_LIMIT,
    PaperInput,
    Summary,
    sentences,
)

STOP_WORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing down during each
    few for from further had has have having here how however i if in into is it its
    itself just more most much no nor not now of off on once only or other our out over
    own same should so some such than that the their them then there these they this
    those through to too under until up use used using very was we were what when where
    which while who whom why will with would you your paper work show shows propose
    proposed present new based
    """.split()  # noqa: SIM905  (a word list reads best as words)
)
_WORD = re.compile(r"[a-z][a-z0-9\-]{2,}")
#: Who states a contribution: the authors (once rewritten from "we") or the paper itself.
_SUBJECT = (
    r"\b(?:the authors|they|this (?:paper|work|article|study|thesis|report|note|survey))"
    r"(?:\s+\w+ly)?(?:\s+also)?"
)
_MAKE = (
    r"(?:propos|introduc|present(?:s|ed)?\b|develop|design|deriv|devis|formulat|"
    r"put(?:s)? forward)"
)
_STUDY = (
    r"(?:provid|identif|evaluat|report|explor|examin|stud|investigat|show|find|found|demonstrat|"
    r"analy|review|discuss|describ|conduct|perform|consider|focus|argu|not|conclud)"
)
#: A contribution sentence: its subject makes something ("The authors propose",
#: "This paper builds on X in order to propose", "…discuss Y and introduce Z")…
_CONTRIBUTION = re.compile(
    rf"{_SUBJECT}\s+(?:{_MAKE}|[^.;]{{0,140}}?\b(?:to|and)\s+{_MAKE})", re.IGNORECASE
)
#: …or, weaker, studies or reports something ("This paper evaluates", "The authors show").
_STUDIES = re.compile(rf"{_SUBJECT}\s+{_STUDY}", re.IGNORECASE)
#: A sentence that reports a result.
_RESULT = re.compile(
    r"\b(?:show|find|found|demonstrat|reveal|achiev|outperform|improv|reduc|prove|indicat|"
    r"conclud)|\d",
    re.IGNORECASE,
)


#: A sentence about a link ("… at the following URL:") says nothing once links are gone.
_POINTER = re.compile(r"https?://|www\.|:\s*$|\b(?:following|this) (?:url|link|address)\b", re.I)


#: The headings of a structured abstract ("Context. … Objective. … Results. …").
_LABEL = re.compile(
    r"^(context|background|motivation|problem|objectives?|aims?|purpose|goals?|method(?:s|ology)?|"
    r"approach|design|results?|findings|evaluation|conclusions?|significance|limitations)[.:]$",
    re.IGNORECASE,
)
_AIM = frozenset({"objective", "objectives", "aim", "aims", "purpose", "goal", "goals"})


def _unlabelled(raw: list[str]) -> tuple[list[str], set[int]]:
    """The sentences without a structured abstract's headings, and which of
    them come right after an "Objective." heading (the contribution)."""
    out: list[str] = []
    aims: set[int] = set()
    label = ""
    for s in raw:
        m = _LABEL.match(s.strip())
        if m:
            label = m.group(1).lower()
            continue
        if label in _AIM:
            aims.add(len(out))
        label = ""
        out.append(s)
    return out, aims


#: Inside a sentence, words that point back at an earlier one ("these methods").
_POINTS_BACK = re.compile(r"\b(?:these|those|such)\s+[a-z]", re.I)


def _content(s: str) -> list[str]:
    return [w for w in _WORD.findall(s.lower()) if w not in STOP_WORDS]


def extractive(p: PaperInput, *, prompt_version: str = "") -> Summary:
    """A deterministic summary made only of the abstract's own sentences,
    readable on their own: the sentence that states the contribution is the
    tl;dr, the next best (in reading order) are the key insights.

    Each sentence has its LaTeX turned into text, is repaired to stand alone
    or left out (:func:`offline_prose.standalone`) and speaks of the authors
    in the third person; a sentence too long for its place is left out, never
    cut."""
    raw, aims = _unlabelled(sentences(readable(p.abstract)))
    if not raw:
        return Summary("", (), None, "extractive", OFFLINE_MODEL, prompt_version)
    freq = Counter(w for s in raw for w in _content(s))
    top = max(freq.values()) if freq else 1
    title = set(_content(readable(p.title)))
    allowed = p.allowed_urls
    single = len(p.authors) == 1  # "the author", with the verb agreeing
    usable: dict[int, str] = {}
    for i, s in enumerate(raw):
        fixed = standalone(s)
        if fixed and not _POINTER.search(fixed):
            usable[i] = sanitize.one_line(
                third_person(fixed, single_author=single), allowed_urls=allowed, limit=10**6
            )

    def centrality(s: str) -> float:
        content = _content(s)
        if not content:
            return 0.0
        return sum(freq[w] / top for w in set(content)) / math.sqrt(len(content))

    def title_overlap(s: str) -> float:
        return len(title & set(_content(s))) / len(title) if title else 0.0

    def tldr_score(i: int) -> tuple[int, float]:
        s = usable[i]
        tier = 2 if i in aims or _CONTRIBUTION.search(s) else 1 if _STUDIES.search(s) else 0
        if i > 0 and _POINTS_BACK.search(s):
            tier -= 1  # "these methods": shown first, it would point at nothing
        return tier, centrality(s) + title_overlap(s) - 0.05 * i

    fits = [i for i in usable if usable[i] and len(usable[i]) <= TLDR_LIMIT]
    if not fits:
        # The abstract's first sentence has no sentence before it to lean on.
        first = sanitize.one_line(
            third_person(raw[0], single_author=single), allowed_urls=allowed, limit=10**6
        )
        if not first or len(first) > TLDR_LIMIT:
            return Summary("", (), None, "extractive", OFFLINE_MODEL, prompt_version)
        usable[0] = first
        fits = [0]
    best = max(fits, key=lambda i: (*tldr_score(i), -i))

    def insight_score(i: int) -> float:
        s = usable[i]
        after = 0.6 if i > best else 0.0
        result = 0.3 if _RESULT.search(s) else 0.0
        return centrality(s) + after + result

    seen = set(_content(usable[best]))
    picked: list[int] = []
    for i in sorted(usable, key=lambda i: (-insight_score(i), i)):
        s = usable[i]
        if i == best or not s or len(s) > INSIGHT_LIMIT or len(picked) == 3:
            continue
        words = set(_content(s))
        if words and len(words & seen) / len(words) > 0.8:
            continue  # says again what is already there
        picked.append(i)
        seen |= words
    tldr, *insights = explain_on_first_use(
        [usable[best], *(usable[i] for i in sorted(picked))], readable(p.abstract)
    )
    return Summary(
        tldr=tldr,
        key_insights=tuple(insights),
        why_it_matters=None,
        source="extractive",
        model=OFFLINE_MODEL,
        prompt_version=prompt_version,
    )
