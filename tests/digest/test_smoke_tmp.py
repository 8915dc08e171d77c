from bot.replies import to_plain
from bot.events import Command
from tests.digest.conftest import seed, ORGANIZER, PLACE, WEEK, at
from bot.clock import ManualClock

async def test_smoke(llm_bot, sessions_patch, fake_llm):
    llm_bot.clock = ManualClock(at(WEEK))
    s = seed(llm_bot, sessions=3, also=2)
    sessions_patch.extend(s.sessions)
    replies = await llm_bot.handle(Command("digest", "", ORGANIZER, PLACE), None)
    print(to_plain(replies[0]))
    print(len(fake_llm.requests))
    assert 0
