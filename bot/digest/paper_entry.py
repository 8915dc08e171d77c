"""One paper's entry in a post, as every post builds it: the heading links
(``[pdf] [code]``), the authors, the write-up paragraphs and the
group's takeaways attributed to who said them, with no sentence said twice.

The write-up is :attr:`Summary.write_up` when the summary has one (grounded
prose), else the tl;dr and the key insights as prose. Every string is
sanitised here; the templates escape it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime, tzinfo
from typing import Any

from bot.chat import sanitize
from bot.chat.markup import link
from bot.digest.summary_types import Summary, sentences
from bot.infra import prompts
from bot.infra.clock import as_utc
from bot.papers import cards
from storage.papers.tables import Paper

_WORD = re.compile(r"[\w']+")
_QUOTED = re.compile(r"[“\"]([^”\"]{8,})[”\"]")


def title(paper: Paper) -> str:
    return sanitize.one_line(cards.title_of(paper), limit=300)


def abs_url(paper: Paper) -> str:
    return cards.abs_url(paper)


def pdf_url(paper: Paper) -> str:
    return cards.pdf_url(paper)


def code_urls(paper: Paper) -> list[str]:
    return sanitize.code_links(paper.abstract, paper.comment, *(paper.links or []))[:2]


def links(paper: Paper) -> prompts.Markup:
    """``[pdf] [code]`` after a heading, like seed 002's links. The heading's
    title is already the link to the paper's arXiv page, so no ``[paper]``
    link repeats it."""
    parts = [link("pdf", pdf_url(paper))]
    parts += [link("code", url) for url in code_urls(paper)]
    return prompts.Markup(" ".join(parts))


def short_authors(paper: Paper) -> str:
    """All the authors when three or fewer ("A, B and C", as in prose), else
    the first two and "et al."."""
    if 0 < len(paper.authors or []) <= 3:
        return every_author(paper)
    return sanitize.one_line(cards.short_authors(paper.authors or []), limit=300)


#: A byline names every author up to this many; a longer list names the first
#: :data:`FIRST_AUTHORS` and says how many more there are ("… and 28 others").
MOST_AUTHORS = 8
FIRST_AUTHORS = 6


def every_author(paper: Paper) -> str:
    """The authors as prose ("A, B and C"); past :data:`MOST_AUTHORS`, the
    first ones and how many others (a 34-author paper filled four lines)."""
    names = [n for n in (sanitize.one_line(a, limit=80) for a in paper.authors or []) if n]
    if len(names) > MOST_AUTHORS:
        return f"{', '.join(names[:FIRST_AUTHORS])} and {len(names) - FIRST_AUTHORS} others"
    return and_list(names)


def and_list(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def day_label(when: datetime, tz: tzinfo) -> str:
    """``Thu 3 Dec``: no leading zero."""
    local = as_utc(when).astimezone(tz)
    return f"{local:%a} {local.day} {local:%b}"


def day_month(when: datetime, tz: tzinfo) -> str:
    """``3 December``."""
    local = as_utc(when).astimezone(tz)
    return f"{local.day} {local:%B}"


def long_date(when: datetime, tz: tzinfo) -> str:
    """``3 December 2026``: no leading zero."""
    local = as_utc(when).astimezone(tz)
    return f"{local.day} {local:%B %Y}"


def _key(sentence: str) -> str:
    return " ".join(w.lower() for w in _WORD.findall(sentence))


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text.endswith((".", "!", "?", "”", '"')) else text + "."


class Said:
    """The sentences an entry has said so far: each is said once."""

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def new(self, sentence: str) -> bool:
        key = _key(sentence)
        if not key or key in self._seen:
            return False
        self._seen.add(key)
        return True

    def paragraph(self, text: str) -> str:
        """The paragraph without the sentences already said. A quotation inside
        a sentence counts as said too, so the takeaway it quotes does not
        repeat it."""
        kept = [s for s in sentences(text) if self.new(s)]
        for s in kept:
            for quoted_text in _QUOTED.findall(s):
                for inner in sentences(quoted_text):
                    self.new(inner)
        return " ".join(kept)


def write_up(s: Summary | None, paper: Paper, said: Said) -> list[str]:
    """The entry's prose paragraphs (none when there is nothing to say)."""
    if s is None:
        return []
    allowed = sanitize.paper_urls(paper.arxiv_id, paper.version)
    grounded: Iterable[str] = getattr(s, "write_up", ()) or ()
    paragraphs = [sanitize.one_line(p, allowed_urls=allowed, limit=2000) for p in grounded]
    if not any(paragraphs):
        tldr = sanitize.one_line(s.tldr, allowed_urls=allowed, limit=800)
        insights = [sanitize.one_line(k, allowed_urls=allowed, limit=400) for k in s.key_insights]
        paragraphs = [tldr, " ".join(_sentence(k) for k in insights if k)]
    out = [said.paragraph(p) for p in paragraphs if p]
    return [p for p in out if p]


def why_it_matters(s: Summary | None, paper: Paper, said: Said) -> str:
    if s is None or not s.why_it_matters:
        return ""
    allowed = sanitize.paper_urls(paper.arxiv_id, paper.version)
    return said.paragraph(sanitize.one_line(s.why_it_matters, allowed_urls=allowed, limit=800))


def takeaways(
    texts: Sequence[str], authors: Sequence[str], paper: Paper, said: Said
) -> list[dict[str, Any]]:
    """The group's takeaways, each ``{"text", "by"}``, without repeats."""
    allowed = sanitize.paper_urls(paper.arxiv_id, paper.version)
    out: list[dict[str, Any]] = []
    for i, raw in enumerate(texts):
        text = sanitize.one_line(raw, allowed_urls=allowed, limit=500)
        if not text:
            continue
        kept = [s for s in sentences(text) if said.new(s)]
        if not kept:
            continue
        by = sanitize.one_line(authors[i], limit=80) if i < len(authors) else ""
        out.append({"text": " ".join(kept), "by": by})
    return out


def quoted(items: Sequence[dict[str, Any]]) -> str:
    """Takeaways as one line of prose: “…” — Lena. “…” — Marco."""
    return "\n".join(f"“{t['text']}”" + (f" — {t['by']}" if t["by"] else "") for t in items)


#: The post's one note when every paper's summary came from its abstract.
ALL_FROM_ABSTRACTS = "The summaries above are taken from the papers' abstracts."


def offline_line(entries: list[dict[str, Any]]) -> str:
    """One line per post naming the papers whose summary was extracted from
    the abstract (no LLM), or "" when there are none."""
    names = [str(e["title"]) for e in entries if e.get("offline")]
    if not names:
        return ""
    if len(names) == len(entries):
        if len(names) == 1:
            return "The summary above is taken from the paper's abstract."
        return ALL_FROM_ABSTRACTS
    return f"The summary of {and_list(names)} is taken from the abstract."


def offline_note(s: Summary | None) -> bool:
    """Whether the entry's prose is the offline (extractive) summary."""
    return bool(s and s.offline and not getattr(s, "write_up", ()))
