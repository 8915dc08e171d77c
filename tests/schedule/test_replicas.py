"""Two bot processes (separate engines, one PostgreSQL schema) run the
reminder loop at the same instants for 8 simulated weeks: every due message
is sent exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from sqlmodel import select

from bot.app import Bot, build_bot
from bot.infra.arxiv_client import ArxivClient
from bot.infra.clock import ManualClock
from bot.infra.settings import Settings
from bot.schedule.reminders import next_wakeup, run_due
from storage.engine import make_engine, upgrade
from storage.groups.tables import Group, Member
from storage.schedule.tables import Delivery
from tests.schedule.conftest import START, Recorder, cmd, org, seed_paper

WEEKS = 8


def _bot(url: str, settings: Settings) -> Bot:
    engine = make_engine(url)
    return build_bot(
        settings,
        engine=engine,
        clock=ManualClock(START),
        messenger=Recorder(),
        arxiv=ArxivClient(api_url="http://127.0.0.1:9/"),
        migrate=False,
    )


async def test_two_replicas_on_postgresql_send_every_reminder_exactly_once(
    pg_schema_url: str,
) -> None:
    settings = Settings(DATABASE_URL=pg_schema_url, _env_file=None)  # type: ignore[call-arg]
    setup_engine = make_engine(pg_schema_url)
    upgrade(setup_engine)
    setup_engine.dispose()
    a, b = _bot(pg_schema_url, settings), _bot(pg_schema_url, settings)
    try:
        await org(a, '/readgroup config meeting "Thu 16:00 Europe/Berlin"')
        for user in ("ann", "ben", "cat", "dan"):
            await cmd(a, "/rotation join", user=user)

        def seed(*, session):  # type: ignore[no-untyped-def]
            group = session.exec(select(Group)).one()
            ann = session.exec(select(Member).where(Member.user_id == "ann")).one()
            for i in range(10):
                seed_paper(
                    session=session,
                    group=group,
                    member=ann,
                    arxiv_id=f"2601.{i:05d}",
                    title=f"Paper {i}",
                    now=START,
                )

        await a.db(seed)
        end = START + timedelta(weeks=WEEKS)
        sent_by_key: Counter[str] = Counter()
        steps = 0
        while True:
            now = a.clock.now()
            results = await asyncio.gather(run_due(a), run_due(b))
            for result in results:
                sent_by_key.update(s.key for s in result)
            steps += 1
            wake = await a.db(next_wakeup, now=now)
            if wake is None or wake > end:
                break
            for bot in (a, b):
                bot.clock.set(wake)  # type: ignore[attr-defined]

        def claims(*, session):  # type: ignore[no-untyped-def]
            return {d.key: d.status for d in session.exec(select(Delivery)).all()}

        rows = await a.db(claims)
        sent_rows = {k for k, v in rows.items() if v == "sent"}
        kinds = Counter(k.split(":")[2].split("-")[0] for k in sent_by_key)
        ra, rb = a.messenger, b.messenger
        assert isinstance(ra, Recorder) and isinstance(rb, Recorder)
        total_messages = len(ra.posts) + len(ra.directs) + len(rb.posts) + len(rb.directs)
        print(
            f"\n{steps} steps; {len(sent_by_key)} keys sent; per kind {dict(kinds)}; "
            f"replica A sent {len(ra.posts) + len(ra.directs)}, replica B "
            f"{len(rb.posts) + len(rb.directs)}; max sends per key {max(sent_by_key.values())}"
        )
        assert sent_by_key and max(sent_by_key.values()) == 1
        assert set(sent_by_key) == sent_rows
        assert total_messages == len(sent_by_key)
        # 8 weeks of Thursday sessions: a nudge, a deadline pick (told as
        # "assigned"), two channel reminders and a takeaways prompt each.
        assert kinds["nudge"] == kinds["assigned"] == kinds["takeaways"] == WEEKS
        assert kinds["channel"] == 2 * WEEKS
    finally:
        for bot in (a, b):
            await bot.aclose()
            bot.engine.dispose()
