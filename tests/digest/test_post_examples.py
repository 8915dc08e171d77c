"""docs/examples/ is what the bot makes of the seeded quarter today: rebuilt
here (tests/digest/make_examples.py) and compared with the committed files.
After a deliberate change, run ``python -m tests.digest.make_examples``."""

from __future__ import annotations

from tests.digest import make_examples


async def test_the_committed_examples_are_what_the_bot_makes_now() -> None:
    built = await make_examples.build()
    assert len(built) == 6
    assert make_examples.differences(built) == [], (
        "docs/examples/ is out of date: run `python -m tests.digest.make_examples`"
    )
    llm, offline = built["weekly-2026-W36-llm.md"], built["weekly-2026-W36-offline.md"]
    assert llm != offline and "extractive summary (offline)" not in offline
    assert offline.count("taken from the") == 1 and "taken from the" not in llm
    assert "extractive" not in llm
    for text in built.values():
        assert "@" not in text and "<!" not in text  # the draft pings nobody


async def test_the_examples_read_like_the_seeds_in_shape() -> None:
    import re

    built = await make_examples.build()
    for name, text in built.items():
        papers = re.split(r"\n(?=## \[)", text)[1:]
        assert papers, name  # every paper opens under its own heading, linked to arXiv
        assert all(p.startswith("## [") and "](https://arxiv.org/abs/" in p for p in papers)
    for mode in ("llm", "offline"):
        week = built[f"weekly-2026-W36-{mode}.md"]
        assert week.startswith("# This Week in ML – 3 September 2026\n")  # dated like seed 002
        also = week.split("**Also proposed**\n", 1)[1].split("\n\n", 1)[0].splitlines()
        assert also and all(len(line) <= 400 for line in also)  # a short list, never cut
        quarter = built[f"quarterly-2026-Q3-{mode}.md"]
        # the two cancelled sessions are said, and the closing says when the group meets
        assert "No session on 6 August or 20 August: both were cancelled." in quarter
        assert "meets every Thursday at 16:00 (Europe/Berlin time)" in quarter
        # a single author is "the author", never "the authors"
        [pools] = [p for p in re.split(r"\n(?=## \[)", quarter) if "Itsik Bergel" in p]
        assert "the authors" not in pools.lower()
    month = built["monthly-2026-07-llm.md"]
    for pick in re.split(r"\n(?=## \[)", month)[1:]:
        if "**Read →**" not in pick:
            continue
        insights = pick.split("**Key insights →**", 1)[1].split("**Read →**", 1)[0]
        # what the group said is under "Read →", not retold in the paper's insights
        assert "“" not in insights and "the group" not in insights.lower(), pick
