"""The shape of the posts (issue 14, item 3), on the seeded quarter, offline:
no empty section or placeholder, no sentence twice in a paper's entry,
singular and plural right, dates without leading zeros, nothing still to come
reported as held."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from bot.app import Bot
from bot.digest import periods
from bot.digest.exports import export_month, export_quarter, export_week
from bot.digest.gather import AlsoProposed, Featured, WeekContent
from bot.digest.render import render_week
from bot.digest.summary_types import Summary, sentences
from storage.groups.tables import Group
from storage.papers.tables import Paper
from tests.digest.quarter_seed import load_quarter

BERLIN = periods.Quarter.parse("2026-Q3").tz
PLACEHOLDERS = (
    "No takeaways were recorded",
    "not available",
    "not recorded",
    "pending",
    "unknown authors",
    "authors not known",
    "(s)",
)
MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"


def _problems(md: str) -> list[str]:
    out: list[str] = []
    if "\n\n\n" in md:
        out.append("an empty section")
    for label in re.findall(r"\*\*[^*]+[:→]\*\*\s*$", md, re.M):
        out.append(f"a label with nothing after it: {label}")
    out += [
        f"placeholder {p!r}"
        for p in PLACEHOLDERS
        if re.search(rf"(?<!\w){re.escape(p)}(?!\w)", md, re.I)
    ]
    for bad in re.findall(rf"\b0\d (?:{MONTHS}|[A-Z][a-z]{{2}}\b)", md):
        out.append(f"a leading zero: {bad}")
    for bad in re.findall(r"\b1 (?:papers|sessions|votes|times|takeaways|picks)\b", md):
        out.append(f"plural after 1: {bad}")
    for bad in re.findall(r"\b(?:[02-9]|\d\d+) (?:paper|session|vote|takeaway|pick)\b(?!s)", md):
        out.append(f"singular after a number: {bad}")
    if re.search(r"\b1 time\b", md):
        out.append("'1 time' instead of 'once'")
    return out


def _entries(md: str) -> list[str]:
    """Each paper's entry: from its heading (a line starting with a link) to the next."""
    parts = re.split(r"\n(?=\*?\*?\[[^\]]+\]\(https://arxiv\.org/abs/)", md)
    return [p for p in parts[1:] if "[pdf](" in p.splitlines()[0] or "_By_" in p]


def _repeats(entry: str) -> list[str]:
    seen: dict[str, str] = {}
    out = []
    for line in (ln.strip() for ln in entry.splitlines()):
        quoted = re.findall(r"“([^”]+)”", line)
        outside = re.sub(r"“[^”]+”", " ", line)  # the quotations are checked on their own
        text = re.sub(r"\*\*[^*]+\*\*|— \w+\b", " ", outside)
        pieces = sentences(text) + [s for q in quoted for s in sentences(q)]
        for s in pieces:
            key = " ".join(re.findall(r"\w+", s.lower()))
            if len(key) < 12:
                continue
            if key in seen:
                out.append(s)
            seen[key] = s
    return out


async def test_every_week_month_and_the_quarter_read_cleanly(bot: Bot) -> None:
    load_quarter(bot)
    posts: list[str] = []
    week = periods.Week.containing(datetime(2026, 7, 2, 12, tzinfo=UTC), BERLIN)
    for _ in range(13):
        posts.append(await export_week(bot, week=week))
        week = periods.Week.containing(week.start + timedelta(days=8), BERLIN)
    for number in (7, 8, 9):
        posts.append(await export_month(bot, month=periods.Month(2026, number, BERLIN)))
    posts.append(await export_quarter(bot, quarter=periods.Quarter.parse("2026-Q3")))
    for md in posts:
        assert not _problems(md), (_problems(md), md[:300])
        for entry in _entries(md):
            assert not _repeats(entry), (_repeats(entry), entry[:200])
    quarter = posts[-1]
    assert "met 11 times and read 11 papers" in quarter
    assert "Presenter:** Lena · 2 July 2026" in quarter  # no leading zero
    assert "— Lena" in quarter  # takeaways are attributed
    # "What it means for the team" only where the group said something
    assert quarter.count("What it means for the team") == 9  # 2 sessions had no takeaway


async def test_early_in_the_quarter_it_met_once_and_one_session_is_to_come(bot: Bot) -> None:
    load_quarter(bot, now=datetime(2026, 7, 5, 9, tzinfo=UTC))
    md = await export_quarter(bot, quarter=periods.Quarter.parse("2026-Q3"))
    assert "met once and read 1 paper," in md
    assert "1 session of the quarter is still to come." in md
    coming = md[md.index("**Coming up**") :]
    assert "Thu 9 Jul" in coming and "Datamorphic" in coming and "Marco" in coming
    assert "Datamorphic" not in md[: md.index("**Coming up**")]
    assert not _problems(md), _problems(md)
    week = await export_week(bot, week=None)
    assert "(1 vote)" in week and "This week we read 1 paper:" in week
    assert not _problems(week), _problems(week)


async def test_a_pick_still_to_come_is_not_reported_as_read(bot: Bot) -> None:
    load_quarter(bot, now=datetime(2026, 9, 22, 9, tzinfo=UTC))
    md = await export_month(bot, month=periods.Month(2026, 9, BERLIN))
    opencat = next(e for e in re.split(r"\n(?=## \[)", md) if e.startswith("## [OpenCat"))
    assert "**Coming up →** Aiko presents it on Thu 24 Sep." in opencat
    assert "Read →" not in opencat and "/propose" not in md and "/queue" not in md


def _paper(i: int) -> Paper:
    return Paper(
        id=i,
        arxiv_id=f"2601.0000{i}",
        version=1,
        title=f"Paper {i}",
        authors=["Ada Lovelace", "Alan Turing"],
        abstract="",
    )


def test_no_sentence_is_said_twice_in_a_papers_entry() -> None:
    same = "The method finds more faults than random testing does."
    paper = _paper(1)
    s = Summary(
        tldr=same + " It needs no oracle.",
        key_insights=(same, "It needs no oracle.", "Pools of mixed size work."),
        why_it_matters=same,
        source="llm",
        model="m",
        prompt_version="v",
    )
    content = WeekContent(
        Group(id=1, platform="slack", workspace="T", channel="C", name="G"),
        (Featured(paper, "Lena", (same,), (), datetime(2026, 7, 2, 14, tzinfo=UTC)),),
        (AlsoProposed(_paper(2), "Sam", 1, "why"),),
    )
    week = periods.Week(2026, 27, BERLIN)
    _title, body = render_week(week, content, {1: s})
    assert body.count("finds more faults") == 1, body
    assert body.count("needs no oracle") == 1, body
    assert "Pools of mixed size work." in body
    assert "(1 vote)" in body and "1 votes" not in body


def test_the_cost_line_counts_what_the_grounding_check_dropped() -> None:
    from bot.digest.weekly import cost_line
    from storage.digest.tables import DigestDraft

    draft = DigestDraft(revision=1, llm_calls=1, prompt_tokens=10, completion_tokens=5)
    assert "dropped" not in cost_line(draft)
    draft.quotes_dropped, draft.sentences_dropped = 1, 2
    line = cost_line(draft)
    assert "1 LLM call ·" in line and line.endswith(
        "1 quote and 2 sentences dropped by the grounding check"
    )


def test_a_read_picks_discussion_moves_under_read_and_nothing_is_lost() -> None:
    from bot.digest.month import split_discussion

    paragraphs = [
        "The paper pools samples. It needs no prior guess.",
        "On a testbed it finds attacks. “Basically fuzzing.” — Marco",
        "Priya doubted one testbed generalises. The group agreed to wait.",
    ]
    insights, talk = split_discussion(paragraphs, {"Marco", "Priya"})
    assert insights == [
        "The paper pools samples. It needs no prior guess.",
        "On a testbed it finds attacks.",
    ]
    assert talk == [
        "“Basically fuzzing.” — Marco",
        "Priya doubted one testbed generalises. The group agreed to wait.",
    ]


def test_a_cancelled_week_says_so_instead_of_an_empty_opening() -> None:
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from bot.digest.gather import WeekContent
    from bot.digest.render import _intro

    content = WeekContent(
        SimpleNamespace(name="ML"),  # type: ignore[arg-type]
        (),
        (),
        (),
        (datetime(2026, 8, 6, 14, tzinfo=UTC),),
    )
    assert _intro(content, BERLIN) == "There was no session this week: Thu 6 Aug was cancelled."
