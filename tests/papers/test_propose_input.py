"""What /propose makes of its words: several papers, a reason after a comma,
the reasons of everyone who proposes a paper, and reasons that are too long;
on SQLite and PostgreSQL, with the fake arXiv."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.app import Bot
from bot.chat.events import Action, Actor, Command, Place
from bot.chat.replies import Buttons, Reply, to_plain
from storage.papers.tables import Proposal
from tests.fakes.arxiv_server import FakeArxiv

PLACE = Place("console", "local", "general")
TITLE = "Heat-bath random walks with Markov bases"


@pytest.fixture(autouse=True)
def any_id(fake_arxiv: FakeArxiv) -> None:
    fake_arxiv.synthetic = True  # every well-formed id is a paper ("Synthetic paper <id>")


def actor(name: str) -> Actor:
    return Actor("console", name, name.title())


async def run(bot: Bot, text: str, user: str = "alice") -> list[Reply]:
    name, _, rest = text.lstrip("/").partition(" ")
    return await bot.handle(Command(name, rest, actor(user), PLACE), _no_followup)


async def _no_followup(reply: Reply) -> None:
    raise AssertionError(f"unexpected follow-up {reply}")


def text_of(replies: list[Reply]) -> str:
    return "\n".join(to_plain(r) for r in replies)


def cards(replies: list[Reply]) -> list[Reply]:
    return [r for r in replies if r.tag.startswith("card:")]


async def stored(bot: Bot) -> list[tuple[str, str]]:
    def load(*, session):  # type: ignore[no-untyped-def]
        from storage.papers.tables import Paper

        rows = session.exec(
            select(Paper.arxiv_id, Proposal.why).join(Paper, Paper.id == Proposal.paper_id)
        ).all()
        return sorted((a, w) for a, w in rows)

    return await bot.db(load)


async def test_an_old_style_id_then_a_new_one_proposes_both_without_a_reason(bot: Bot) -> None:
    replies = await run(bot, "/propose hep-th/9711200 2102.07074")
    assert len(cards(replies)) == 2
    summary = replies[-1]
    assert summary.private and "You proposed 2 papers" in to_plain(summary)
    assert await stored(bot) == [("2102.07074", ""), ("hep-th/9711200", "")]
    assert "Why" not in text_of(replies)


async def test_two_new_ids_propose_two_papers_in_one_arxiv_request(
    bot: Bot, fake_arxiv: FakeArxiv
) -> None:
    replies = await run(bot, "/propose 2102.06171 2102.12092 both on NFNets")
    assert len(cards(replies)) == 2
    assert await stored(bot) == [("2102.06171", "both on NFNets"), ("2102.12092", "both on NFNets")]
    assert len(fake_arxiv.requests) == 1  # batched
    queue = text_of(await run(bot, "/queue"))
    assert "Synthetic paper 2102.06171" in queue and "Synthetic paper 2102.12092" in queue


async def test_a_comma_after_the_id_ends_the_id_and_the_rest_is_the_reason(bot: Bot) -> None:
    replies = await run(bot, "/propose 2102.07074, great paper")
    [card] = cards(replies)
    assert "Why: great paper" in to_plain(card)
    assert await stored(bot) == [("2102.07074", "great paper")]


async def test_more_than_five_papers_proposes_the_first_five_and_names_the_rest(
    bot: Bot,
) -> None:
    ids = [f"2102.0{n}001" for n in range(1, 8)]
    replies = await run(bot, "/propose " + " ".join(ids))
    said = to_plain(replies[-1])
    assert "at most 5 papers" in said and ids[5] in said and ids[6] in said
    assert [a for a, _ in await stored(bot)] == ids[:5]


async def test_a_word_that_looks_like_an_id_but_is_not_is_reported(bot: Bot) -> None:
    replies = await run(bot, "/propose 1605.08386 2102.0707 a classic")  # a digit short
    said = text_of(replies)
    assert "Not proposed" in said and "2102.0707" in said
    assert await stored(bot) == [("1605.08386", "a classic")]


async def test_a_duplicate_keeps_its_reason_and_the_card_shows_every_reason(bot: Bot) -> None:
    await run(bot, "/propose 1605.08386 Markov chains for the theory group")
    [dup] = await run(bot, "/propose 1605.08386 we need this for the sampler work", user="bob")
    assert dup.private and "I kept your reason" in to_plain(dup) and "now has 2" in to_plain(dup)

    def reasons(*, session):  # type: ignore[no-untyped-def]
        from storage.papers.tables import ProposalReason

        return [r.why for r in session.exec(select(ProposalReason)).all()]

    assert await bot.db(reasons) == ["we need this for the sampler work"]
    [details] = await run(bot, "/queue 1605.08386", user="carol")
    shown = to_plain(details)
    assert "Markov chains for the theory group" in shown
    assert "Also proposed by Bob" in shown and "sampler work" in shown
    # The card shows both too (here: as the ▲ press redraws it).
    press = await _press_first(bot, "carol")
    assert "sampler work" in to_plain(press) and "theory group" in to_plain(press)


async def _press_first(bot: Bot, user: str) -> Reply:
    [queue] = await run(bot, "/queue", user=user)
    button = next(b for blk in queue.blocks if isinstance(blk, Buttons) for b in blk.buttons)
    updated, *_ = await bot.handle(Action("upvote", button.value, actor(user), PLACE), _no_followup)
    return updated


async def test_a_long_reason_is_shortened_on_the_card_and_whole_in_queue_details(
    bot: Bot,
) -> None:
    reason = " ".join(f"word{n}" for n in range(250))  # ~1,900 characters, within the cap
    assert len(reason) <= 2000
    [card] = await run(bot, f"/propose 1605.08386 {reason}")
    shown = to_plain(card)
    assert "word10 " in shown and "word249" not in shown
    assert len(shown) < 600 + 300 + 600  # abstract preview + reason preview + rest
    assert "/queue 1605.08386" in shown
    [details] = await run(bot, "/queue 1605.08386")
    assert "word249" in to_plain(details)
    assert await stored(bot) == [("1605.08386", reason)]


async def test_a_reason_over_the_limit_is_cut_to_it_and_the_user_is_told(bot: Bot) -> None:
    reason = "x" * 1990 + " " + "tail " * 600  # 5,000+ characters
    replies = await run(bot, f"/propose 1605.08386 {reason}")
    said = text_of(replies)
    assert f"{len(reason.strip()):,} characters" in said and "2,000" in said
    assert "left out" in said and "tail" in said
    [(_, kept)] = await stored(bot)
    assert len(kept) <= 2000 and kept.startswith("x" * 1990)


def test_the_parser_never_drops_words() -> None:
    from bot.papers.propose_text import parse_propose_text

    parsed = parse_propose_text("<https://arxiv.org/abs/1706.03762|paper>, 1706.03762 again")
    assert [str(r) for _t, r in parsed.papers] == ["1706.03762"]
    assert parsed.repeated == ["1706.03762"] and parsed.why == "again"
    words = parse_propose_text("2102.07074 see also https://example.org/blog and 2102.06171")
    assert [str(r) for _t, r in words.papers] == ["2102.07074"]
    assert words.why == "see also https://example.org/blog and 2102.06171"


async def test_a_paper_already_known_gets_its_card_at_once(bot: Bot, fake_arxiv: FakeArxiv) -> None:
    await run(bot, "/propose 1605.08386")
    await run(bot, "/withdraw 1605.08386")
    replies = await run(bot, "/propose 1605.08386 1707.08567 again")
    assert len(cards(replies)) == 2 and TITLE in text_of(cards(replies))
    [again] = await run(bot, "/propose hep-th/9711200")
    assert again.tag.startswith("card:")


async def test_a_megabyte_reason_stored_before_the_cap_is_shown_in_bounded_size(
    bot: Bot,
) -> None:
    await run(bot, "/propose 1605.08386")

    def inflate(*, session):  # type: ignore[no-untyped-def]
        p = session.exec(select(Proposal)).one()
        p.why = "y" * 1_000_000  # as the old code stored it
        session.add(p)

    await bot.db(inflate)
    card = await _press_first(bot, "bob")
    assert len(to_plain(card)) < 2_000
    [details] = await run(bot, "/queue 1605.08386")
    shown = to_plain(details)
    assert len(shown) < 3_000 and "998,000 more characters not shown" in shown
