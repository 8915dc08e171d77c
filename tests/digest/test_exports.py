"""Exports: the weekly post and a 13-week quarterly digest as Markdown, through
the `readgroup export` command line; and `readgroup prompts check`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlmodel import select

from adapters import cli
from bot.app import Bot, build_bot
from bot.chat.events import Action, Command
from bot.chat.replies import Reply
from bot.digest import gather, periods
from bot.digest import weekly as dg
from bot.digest.exports import export_week, to_markdown
from bot.infra.clock import ManualClock, SystemClock
from bot.infra.settings import Settings
from bot.schedule.week_sessions import SessionInfo
from storage.groups.tables import Member
from storage.papers.tables import Proposal, Vote
from tests.digest.conftest import ORGANIZER, PLACE, WEEK, at, seed


@pytest.fixture
def sync_bot(settings: Settings, engine: sa.Engine) -> Iterator[Bot]:
    b = build_bot(settings, engine=engine, migrate=False)
    b.clock = ManualClock(at(WEEK))
    yield b


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def _seed_quarter(bot: Bot, sessions_patch: list[SessionInfo]) -> list[SessionInfo]:
    """One session a week for the 13 weeks W41–W53 of Q4 2026."""
    infos: list[SessionInfo] = []
    for i, number in enumerate(range(41, 54)):
        s = seed(bot, sessions=1, week=periods.Week(2026, number), start_index=i)
        infos.extend(s.sessions)
    sessions_patch.extend(infos)
    return infos


def test_a_seeded_quarter_exports_like_the_seed_digests(
    sync_bot: Bot,
    sessions_patch: list[SessionInfo],
    cli_env: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    infos = _seed_quarter(sync_bot, sessions_patch)
    # the quarter is over (sessions count as held only once they have ended)
    monkeypatch.setattr(SystemClock, "now", lambda self: datetime(2027, 1, 2, tzinfo=UTC))
    assert cli.main(["export", "quarter", "2026-Q4"]) == 0
    md = capsys.readouterr().out
    assert md.startswith("# Reading Group – Q4 2026 digest\n")
    assert "met 13 times and read 13 papers" in md
    sections = re.split(r"\n(?=## \[)", md)[1:]  # each paper under its own heading
    assert len(sections) == 13
    for section, info in zip(sections, infos, strict=True):
        lines = [ln for ln in section.splitlines() if ln.strip()]
        assert re.match(r"## \[.+\]\(https://arxiv\.org/abs/[\w.\-/]+\) ", lines[0])
        assert lines[1].startswith("**Authors:** ") and "unknown" not in lines[1]
        assert f"**Presenter:** {info.presenter_name}" in section
        assert "[pdf](https://arxiv.org/pdf/" in lines[0]
        assert "extractive summary (offline)" not in section and len(lines[3]) > 40
        meaning = next(ln for ln in lines if ln.startswith("**What it means for the team:**"))
        assert len(meaning) > len("**What it means for the team:**") + 20
        assert "evaluation setup" in meaning  # from the group's own takeaways
    assert "Thanks to everyone who presented this quarter: Alice, Bob, Chen and Dana." in md
    assert "\n\n\n" not in md  # no empty sections
    assert not re.search(r"\*\*[^*]+:\*\*\s*$", md, re.M)  # no label without content


def test_export_quarter_without_a_quarter_is_this_quarter_so_far(
    sync_bot: Bot,
    sessions_patch: list[SessionInfo],
    cli_env: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    infos = _seed_quarter(sync_bot, sessions_patch)
    # mid-December: the quarter is Q4, and only the sessions that have ended count
    now = datetime(2026, 12, 14, tzinfo=UTC)
    monkeypatch.setattr(SystemClock, "now", lambda self: now)
    held = sum(1 for info in infos if info.starts_at < now)  # none runs across Monday 00:00
    assert 0 < held < len(infos)
    assert cli.main(["export", "quarter"]) == 0
    md = capsys.readouterr().out
    assert md.startswith("# Reading Group – Q4 2026 digest\n")
    assert f"met {held} times and read {held} papers" in md
    assert cli.main(["export", "quarter", "2026-Q4"]) == 0
    assert capsys.readouterr().out == md  # the same as naming it


def test_export_quarter_with_nothing_held_says_so(
    sync_bot: Bot,
    sessions_patch: list[SessionInfo],
    cli_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    seed(sync_bot, sessions=1)  # a group exists, but nothing in Q1
    assert cli.main(["export", "quarter", "2026-Q1"]) == 1
    assert "No sessions were held in Q1 2026" in capsys.readouterr().err


def test_export_rejects_a_bad_quarter_or_week(
    cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["export", "quarter", "2026-Q5"]) == 2
    err = capsys.readouterr().err
    assert "“2026-Q5” is not a quarter" in err and "or leave it out for this quarter" in err
    assert cli.main(["export", "digest", "--week", "47"]) == 2
    assert "not an ISO week" in capsys.readouterr().err


def test_export_digest_renders_the_week_as_markdown(
    sync_bot: Bot,
    sessions_patch: list[SessionInfo],
    cli_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    s = seed(sync_bot, sessions=2, also=1)
    sessions_patch.extend(s.sessions)
    assert cli.main(["export", "digest", "--week", "2026-W47", "--format", "md"]) == 0
    md = capsys.readouterr().out
    assert md.startswith("# This Week in ML – 18 November 2026\n")  # the last session's day
    assert f"[{s.papers[0].title}](https://arxiv.org/abs/{s.papers[0].arxiv_id})" in md
    assert "**Also proposed**\n- " in md and "[pdf](https://arxiv.org/pdf/" in md
    # the heading's title links to the arXiv page; no "[paper]" link says it again
    assert "[paper](" not in md
    assert "Key insights" not in md and "tl;dr" not in md  # prose, not bullets


def test_export_ics_is_delegated_to_the_calendar_area(
    cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        import bot.schedule.calendar  # noqa: F401
    except ImportError:
        assert cli.main(["export", "ics"]) == 1
        assert "calendar export is not available" in capsys.readouterr().err
        return
    # No group has a meeting rule in a fresh database: the calendar area's
    # message reaches the user and the exit code says it failed.
    assert cli.main(["export", "ics"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("readgroup: ") and "meeting" in err


async def _noop(reply: Reply) -> None:
    return None


async def test_export_digest_prints_the_published_revision(
    bot: Bot, sessions_patch: list[SessionInfo]
) -> None:
    bot.clock = ManualClock(at(WEEK))
    sessions_patch.extend(seed(bot, sessions=1).sessions)
    [draft] = await bot.handle(Command("digest", "", ORGANIZER, PLACE), _noop)
    draft_id = next(b.value for blk in draft.blocks for b in getattr(blk, "buttons", ()))
    await bot.handle(
        Action(
            dg.EDIT_SAVE,
            draft_id,
            ORGANIZER,
            PLACE,
            fields=(("title", "Edited title"), ("body1", "Only **this**.")),
        ),
        _noop,
    )
    await bot.handle(Action(dg.APPROVE, draft_id, ORGANIZER, PLACE), _noop)
    assert await export_week(bot, week=WEEK) == "# Edited title\n\nOnly **this**.\n"


def test_markdown_escapes_untrusted_text_and_keeps_links() -> None:
    md = to_markdown(
        "A *title*", "**[x\\_y](https://arxiv.org/abs/1)**\n# not a heading <b>\n\n• one\n• two"
    )
    assert md == (
        "# A \\*title\\*\n\n## [x\\_y](https://arxiv.org/abs/1)\n\\# not a heading \\<b\\>\n\n"
        "- one\n- two\n"
    )


def test_prompts_check_renders_every_prompt_and_template(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["prompts", "check"]) == 0
    out = capsys.readouterr().out
    for name in ("tldr", "weekly_post", "quarterly_digest", "monthly_picks"):
        assert re.search(rf"^ok +{name} \(version [0-9a-f]{{12}}\)", out, re.M)


def test_a_month_exports_its_most_voted_proposals_like_the_seed_picks(
    sync_bot: Bot, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(sync_bot, sessions=0, also=2, week=periods.Week(2026, 44), start_index=0)  # October
    november = [
        p
        for i, n in enumerate((45, 46, 47, 48))
        for p in seed(
            sync_bot, sessions=0, also=3, week=periods.Week(2026, n), start_index=2 + 3 * i
        ).also
    ]
    favourite = november[7]

    def vote(*, session):  # type: ignore[no-untyped-def]
        top = session.exec(select(Proposal).where(Proposal.paper_id == favourite.id)).one()
        for i in range(2):
            m = Member(
                platform="console",
                workspace="local",
                user_id=f"v{i}",
                name=f"V{i}",
                created_at=top.created_at,
            )
            session.add(m)
            session.flush()
            session.add(Vote(proposal_id=top.id, member_id=m.id, created_at=top.created_at))

    sync_bot.db_sync(vote)
    assert cli.main(["export", "month", "2026-11"]) == 0
    md = capsys.readouterr().out
    assert md.startswith("# Reading Group Picks – November 2026\n")
    sections = re.split(r"\n(?=## \[)", md)[1:]
    assert len(sections) == gather.MAX_PICKS  # 12 proposed in November, the top 10 shown
    assert f"[{favourite.title}]" in sections[0]  # most votes first
    assert "Proposed by Bob, 3 votes." in sections[0]  # seed() has Bob propose every second paper
    for section in sections:
        assert (
            "**Why →** Worth a read. Proposed by " in section
        )  # the proposer's reason, capitalised
        assert "**Key insights →** " in section and "extractive summary (offline)" not in section
    assert "October" not in md and "\n\n\n" not in md


def test_export_month_with_nothing_proposed_or_a_bad_month_says_so(
    sync_bot: Bot, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(sync_bot, sessions=0, also=1)  # November 2026
    assert cli.main(["export", "month", "2026-02"]) == 1
    assert "Nothing was proposed in February 2026" in capsys.readouterr().err
    assert cli.main(["export", "month", "2026-13"]) == 2
    assert "not a month" in capsys.readouterr().err


def test_a_month_of_one_paper_arxiv_has_not_filled_in_says_so_plainly(
    sync_bot: Bot, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(sync_bot, sessions=0, also=1, abstracts={0: ""})
    assert cli.main(["export", "month", "2026-11"]) == 0
    md = capsys.readouterr().out
    assert "The one paper the Reading Group proposed in November 2026" in md
    assert "Key insights" not in md and "not available" not in md  # no empty section
    assert "offline" not in md
