"""The offline extractive summary: used without an LLM key, when the LLM
fails or gives invalid output twice, and for papers whose abstract has not
been fetched yet. Deterministic, made only of the abstract's own sentences."""

from __future__ import annotations

import math
import re
from collections import Counter

from bot.chat import sanitize
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
_CUE = re.compile(
    r"\b(we (propose|introduce|present|develop|show|find|demonstrate|examine|study|"
    r"investigate|perform|performed|conduct|evaluate|analy[sz]e|provide)|this (paper|article)|"
    r"in this (work|paper|article)|our (method|approach|results?))\b",
    re.IGNORECASE,
)
#: Sentences that lean on the one before read badly on their own as a tl;dr.
_LEANING = re.compile(
    r"^(these|those|such|as such|it|they|however|moreover|furthermore|thus|therefore|"
    r"additionally|in addition|finally|also|hence)\b",
    re.IGNORECASE,
)


def extractive(p: PaperInput, *, prompt_version: str = "") -> Summary:
    """A deterministic summary made only of the abstract's own sentences:
    the best-scoring sentence is the tl;dr, the next best (in reading order)
    are the key insights."""
    sents = sentences(p.abstract)
    if not sents:
        return Summary("", (), None, "extractive", OFFLINE_MODEL, prompt_version)
    words = [w for s in sents for w in _WORD.findall(s.lower()) if w not in STOP_WORDS]
    freq = Counter(words)
    top = max(freq.values()) if freq else 1

    def score(i: int, s: str) -> float:
        content = [w for w in _WORD.findall(s.lower()) if w not in STOP_WORDS]
        if not content:
            return 0.0
        base = sum(freq[w] / top for w in set(content)) / math.sqrt(len(content))
        cue = 0.6 if _CUE.search(s) else 0.0
        position = 0.3 if i == 0 else (0.1 if i == len(sents) - 1 else 0.0)
        too_long = 0.5 if len(s) > TLDR_LIMIT else 0.0
        leaning = 0.4 if _LEANING.match(s) and not cue else 0.0
        return base + cue + position - too_long - leaning

    ranked = sorted(range(len(sents)), key=lambda i: (-score(i, sents[i]), i))
    best = ranked[0]
    insights = sorted(ranked[1:4])
    allowed = p.allowed_urls
    return Summary(
        tldr=sanitize.one_line(sents[best], allowed_urls=allowed, limit=TLDR_LIMIT),
        key_insights=tuple(
            sanitize.one_line(sents[i], allowed_urls=allowed, limit=INSIGHT_LIMIT) for i in insights
        ),
        why_it_matters=None,
        source="extractive",
        model=OFFLINE_MODEL,
        prompt_version=prompt_version,
    )
