"""What `/propose` was given: the papers first, then the reason.

``/propose 2102.06171 2102.12092 both on normalizer-free nets`` proposes two
papers with one reason; ``/propose 2102.07074, great paper`` is one paper and
the reason "great paper". Leading words that are arXiv references are papers;
a leading word that looks like one but is not (``2102.1``) is reported, not
taken as the start of the reason; the first other word starts the reason.
Nothing is dropped without a word: papers beyond the limit, repeats and the
part of an over-long reason that is not kept are all reported back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.infra.arxiv_ref import ArxivId, InvalidReference, parse_ref

__all__ = ["PAPERS_MAX", "REASON_MAX", "ProposeText", "parse_propose_text"]

#: Papers one /propose takes; more are named back, not proposed.
PAPERS_MAX = 5
#: Characters of a reason that are stored; the rest is named back, not kept.
REASON_MAX = 2000

# A word: a Slack-wrapped link (its label may have spaces) or a run of non-space.
_WORD = re.compile(r"<[^<>]*>[,;]*|\S+")
# What a reference looks like, valid or not: an id-ish number, an old-style
# archive/number, an arXiv: prefix or a link to one of the hosts we read.
_REF_LIKE = re.compile(
    r"(?i)(?:arxiv:|<?https?://(?:www\.)?(?:arxiv\.org|export\.arxiv\.org|alphaxiv\.org|"
    r"huggingface\.co/papers|ar5iv\.)|\d{4}\.\d{3}|[a-z-]+(?:\.[a-z-]+)?/\d{5})"
)
_TRAILING = ",;"


@dataclass(frozen=True)
class ProposeText:
    #: (as typed, parsed) of each paper to propose, in order, without repeats.
    papers: list[tuple[str, ArxivId]] = field(default_factory=list)
    #: Valid papers beyond PAPERS_MAX, as typed: not proposed.
    over_limit: list[str] = field(default_factory=list)
    #: Papers listed more than once (proposed once), as typed.
    repeated: list[str] = field(default_factory=list)
    #: Words that look like references but are not, with why.
    bad: list[InvalidReference] = field(default_factory=list)
    #: The reason as kept (at most REASON_MAX characters).
    why: str = ""
    #: Characters of the reason as given, and the part that was not kept.
    why_length: int = 0
    why_cut: str = ""


def _pieces(word: str) -> list[str]:
    """``a,b`` and ``a,`` are references separated by commas; a Slack link is one."""
    core = word.rstrip(_TRAILING)
    if core.startswith("<") and core.endswith(">"):
        return [core]
    return [p for p in word.split(",") if p] or [word]


def _cap(why: str) -> tuple[str, str]:
    """The reason up to REASON_MAX characters (ending at a word when one ends
    near the limit) and what is left out."""
    if len(why) <= REASON_MAX:
        return why, ""
    cut = why[:REASON_MAX]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    if space > REASON_MAX - 100:
        cut = cut[:space]
    return cut.rstrip(), why[len(cut) :].strip()


def parse_propose_text(text: str) -> ProposeText:
    """Split a /propose text into papers and reason; never raises."""
    text = text.strip()
    found: list[tuple[str, ArxivId]] = []
    seen: set[str] = set()
    repeated: list[str] = []
    bad: list[InvalidReference] = []
    why_start = len(text)
    for m in _WORD.finditer(text):
        pieces = _pieces(m.group(0))
        parsed: list[tuple[str, ArxivId | InvalidReference]] = []
        for piece in pieces:
            typed = piece.rstrip(_TRAILING) or piece
            try:
                parsed.append((typed, parse_ref(typed)))
            except InvalidReference as exc:
                parsed.append((typed, exc))
        if not any(
            isinstance(r, ArxivId) or _REF_LIKE.match(typed) is not None for typed, r in parsed
        ):
            why_start = m.start()
            break
        for typed, r in parsed:
            if isinstance(r, InvalidReference):
                bad.append(r)
            elif r.base in seen:
                repeated.append(typed)
            else:
                seen.add(r.base)
                found.append((typed, r))
    why_given = text[why_start:].strip()
    why, cut = _cap(why_given)
    return ProposeText(
        papers=found[:PAPERS_MAX],
        over_limit=[typed for typed, _ in found[PAPERS_MAX:]],
        repeated=repeated,
        bad=bad,
        why=why,
        why_length=len(why_given),
        why_cut=cut,
    )
