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
