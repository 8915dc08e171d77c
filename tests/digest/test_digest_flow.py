"""/digest and its buttons: drafting, the organizer-only rule, revisions,
approval publishing exactly once, and the offline path."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot.app import Bot
from bot.chat.events import Action, Actor, Command, Place
from bot.chat.messenger import DeliveryError, NullMessenger
from bot.chat.replies import Buttons, Header, Reply, to_plain
from bot.digest import periods, summaries
from bot.digest import weekly as dg
from bot.infra.clock import ManualClock
from storage.digest.tables import DigestDraft, DigestRevision, LlmCall
from tests.digest.conftest import MEMBER, ORGANIZER, PLACE, WEEK, at, seed
from tests.fakes.openai_fake import OpenAIFake


async def _say(bot: Bot, text: str = "", actor: Actor = ORGANIZER) -> Reply:
    [reply] = await bot.handle(Command("digest", text, actor, PLACE), _no_followups)
    return reply


async def _no_followups(reply: Reply) -> None:
    raise AssertionError(f"unexpected follow-up {reply}")


async def _press(
    bot: Bot, kind: str, draft_id: int | str, actor: Actor = ORGANIZER, **fields: str
) -> Reply:
    """Press a draft's button; an int is the value of a button from before
    buttons carried their revision (just the draft id)."""
    event = Action(kind, str(draft_id), actor, PLACE, fields=tuple(fields.items()))
    [reply] = await bot.handle(event, _no_followups)
    return reply


def _draft_id(reply: Reply) -> int:
    buttons = [b for blk in reply.blocks if isinstance(blk, Buttons) for b in blk.buttons]
    assert [b.action for b in buttons] == [dg.APPROVE, dg.EDIT, dg.REGENERATE, dg.DISCARD]
    assert [b.label for b in buttons] == ["Approve & publish", "Edit", "Regenerate", "Discard"]
    assert len({b.value for b in buttons}) == 1
    return int(buttons[0].value.split(":")[0])


def _value(reply: Reply, kind: str = dg.APPROVE) -> str:
    """The value of one of a reply's buttons (``draft:revision``)."""
    [button] = [
        b
        for blk in reply.blocks
        if isinstance(blk, Buttons)
        for b in blk.buttons
        if b.action == kind
    ]
    return button.value


def _drafts(bot: Bot) -> list[DigestDraft]:
    return bot.db_sync(lambda *, session: list(session.exec(select(DigestDraft)).all()))


def _revisions(bot: Bot) -> list[DigestRevision]:
    return bot.db_sync(
        lambda *, session: list(session.exec(select(DigestRevision).order_by(DigestRevision.id)))
    )


@pytest.fixture
def week_bot(llm_bot: Bot, sessions_patch: list) -> Bot:  # type: ignore[type-arg]
    llm_bot.clock = ManualClock(at(WEEK))
    return llm_bot


async def test_a_member_cannot_draft_and_nothing_is_saved(
    week_bot: Bot, sessions_patch: list
) -> None:  # type: ignore[type-arg]
    sessions_patch.extend(seed(week_bot, sessions=2).sessions)
    reply = await _say(week_bot, actor=MEMBER)
    assert reply.private and "Only organizers can draft" in to_plain(reply)
    assert _drafts(week_bot) == []


async def test_an_empty_week_says_so_and_drafts_nothing(
    week_bot: Bot, fake_llm: OpenAIFake
) -> None:
    reply = await _say(week_bot, "2026-W40")
    text = to_plain(reply)
    assert reply.private and "Nothing to draft for 2026-W40" in text and "/digest 2026-W39" in text
    assert _drafts(week_bot) == [] and fake_llm.requests == []


async def test_a_bad_week_is_explained(week_bot: Bot) -> None:
    reply = await _say(week_bot, "next week")
    assert reply.private and "not an ISO week" in to_plain(reply) and "2026-W47" in to_plain(reply)
    reply = await _say(week_bot, "2026-W60")
    assert "has no week 60" in to_plain(reply)


async def test_the_draft_goes_privately_to_the_organizer_with_the_cost_of_each_call(
    week_bot: Bot,
    sessions_patch: list,
    fake_llm: OpenAIFake,  # type: ignore[type-arg]
) -> None:
    s = seed(week_bot, sessions=3, also=2)
    sessions_patch.extend(s.sessions)
    reply = await _say(week_bot)  # default: the current week by the bot's clock
    assert reply.private and reply.long_form
    text = to_plain(reply)
    # dated like the seeds: the day of the week's last session
    assert "This Week in ML – 18 November 2026" in text
    for paper in s.papers + s.also:
        assert paper.title in text
    assert "Also proposed" in text and "presented by Alice" in text
    assert "6 LLM calls" in text and "tokens" in text  # 5 summaries and the intro
    [draft] = _drafts(week_bot)
    calls = week_bot.db_sync(lambda *, session: list(session.exec(select(LlmCall))))
    assert draft.llm_calls == len(calls) == 6 and draft.week == "2026-W47"
    assert draft.prompt_tokens == sum(c.prompt_tokens for c in calls) > 0
    assert {c.run_id for c in calls} == {draft.run_id}
    assert _draft_id(reply) == draft.id


async def test_papers_are_summarised_concurrently_at_most_four_at_a_time(
    week_bot: Bot,
    sessions_patch: list,
    fake_llm: OpenAIFake,  # type: ignore[type-arg]
) -> None:
    fake_llm.latency = 0.2
    sessions_patch.extend(seed(week_bot, sessions=8).sessions)
    await _say(week_bot)
    # 8 summaries, then the week's intro
    assert fake_llm.completions == 9 and fake_llm.max_in_flight == 4


async def test_a_second_digest_with_nothing_changed_makes_no_llm_call(
    week_bot: Bot,
    sessions_patch: list,
    fake_llm: OpenAIFake,  # type: ignore[type-arg]
) -> None:
    sessions_patch.extend(seed(week_bot, sessions=8).sessions)
    first = await _say(week_bot)
    assert len(fake_llm.requests) == 9  # 8 summaries and the intro
    second = await _say(week_bot)
    assert len(fake_llm.requests) == 9  # the intro is cached like the summaries
    assert "0 LLM calls " in to_plain(second) and "8 cached summaries reused" in to_plain(second)
    body = lambda r: [b for b in r.blocks if not isinstance(b, Buttons)][2:-1]  # noqa: E731
    assert body(first) == body(second)


async def test_with_the_llm_down_eight_papers_draft_with_labelled_offline_summaries(
    week_bot: Bot,
    sessions_patch: list,
    fake_llm: OpenAIFake,  # type: ignore[type-arg]
) -> None:
    fake_llm.down()
    sessions_patch.extend(seed(week_bot, sessions=8).sessions)
    reply = await _say(week_bot)
    text = to_plain(reply)
    # one note for the post, not a label after every paragraph
    assert "extractive summary (offline)" not in text
    assert text.count("The summaries above are taken from the papers' abstracts.") == 1
    assert "8 summaries are extractive (offline)" in text
    # The breaker opens at the third failure in a row; until then at most the
    # other three of the four calls in flight may still send (a first try or a
    # quick retry), so at most 3 + 3 requests, and none after it opens (the
    # old code, without a breaker, sent 8 papers x 3 attempts).
    assert len(fake_llm.requests) <= 6
    assert len(_drafts(week_bot)) == 1


async def test_without_a_key_the_digest_is_offline_and_makes_no_request(
    bot: Bot,
    sessions_patch: list,  # type: ignore[type-arg]
) -> None:
    bot.clock = ManualClock(at(WEEK))
    assert summaries.llm_for(bot) is None  # the test settings have no OPENAI_API_KEY
    sessions_patch.extend(seed(bot, sessions=2).sessions)
    text = to_plain(await _say(bot))
    assert "extractive summary (offline)" not in text and "0 LLM calls" in text
    assert text.count("The summaries above are taken from the papers' abstracts.") == 1


async def test_approval_publishes_to_the_groups_channel_and_records_who_and_when(
    week_bot: Bot,
    sessions_patch: list,  # type: ignore[type-arg]
) -> None:
    sessions_patch.extend(seed(week_bot, sessions=2, also=1).sessions)
    draft_id = _draft_id(await _say(week_bot))
    week_bot.clock.advance(timedelta(minutes=5))  # type: ignore[attr-defined]
    reply = await _press(week_bot, dg.APPROVE, draft_id)
    assert reply.private and reply.replace and "Published" in to_plain(reply)
    messenger = week_bot.messenger
    assert isinstance(messenger, NullMessenger)
    [(channel, post)] = messenger.sent
    assert channel == "general" and post.long_form and not post.private
    assert isinstance(post.blocks[0], Header) and post.blocks[0].text.startswith("This Week in ML")
    assert not any(isinstance(b, Buttons) for b in post.blocks)
    [draft] = _drafts(week_bot)
    assert draft.status == "published" and draft.approved_by == "alice"
    assert draft.approved_at is not None and draft.published_at is not None


async def test_a_members_approval_does_nothing_but_answer_privately(
    week_bot: Bot,
    sessions_patch: list,  # type: ignore[type-arg]
) -> None:
    sessions_patch.extend(seed(week_bot, sessions=2).sessions)
    draft_id = _draft_id(await _say(week_bot))
    for kind in (dg.APPROVE, dg.EDIT, dg.REGENERATE, dg.DISCARD):
        reply = await _press(week_bot, kind, draft_id, actor=MEMBER)
        assert reply.private and "Only organizers can" in to_plain(reply) and reply.form is None
    reply = await _press(week_bot, dg.EDIT_SAVE, draft_id, actor=MEMBER, title="x", body1="pwned")
    assert "Only organizers can" in to_plain(reply)
    assert week_bot.messenger.sent == []  # type: ignore[attr-defined]
    [draft] = _drafts(week_bot)
    assert draft.status == "draft" and draft.approved_by is None and len(_revisions(week_bot)) == 1


async def test_a_double_approval_publishes_once(week_bot: Bot, sessions_patch: list) -> None:  # type: ignore[type-arg]
    sessions_patch.extend(seed(week_bot, sessions=2).sessions)
    draft_id = _draft_id(await _say(week_bot))
    bob_admin = Actor("console", "carol", "Carol", is_admin=True)
    replies = await asyncio.gather(
        _press(week_bot, dg.APPROVE, draft_id),
        _press(week_bot, dg.APPROVE, draft_id, actor=bob_admin),
        _press(week_bot, dg.APPROVE, draft_id),
    )
    assert len(week_bot.messenger.sent) == 1  # type: ignore[attr-defined]
    texts = [to_plain(r) for r in replies]
    assert sum("Published" in t for t in texts) == 1
    assert all(r.private for r in replies)
    later = await _press(week_bot, dg.APPROVE, draft_id)
    assert "already published" in to_plain(later) and len(week_bot.messenger.sent) == 1  # type: ignore[attr-defined]


async def test_a_second_draft_of_a_published_week_cannot_be_published_again(
    week_bot: Bot,
    sessions_patch: list,  # type: ignore[type-arg]
) -> None:
    sessions_patch.extend(seed(week_bot, sessions=1).sessions)
    first = _draft_id(await _say(week_bot))
    second = _draft_id(await _say(week_bot))
    await _press(week_bot, dg.APPROVE, first)
    reply = await _press(week_bot, dg.APPROVE, second)
    assert "already published from another draft" in to_plain(reply)
    assert len(week_bot.messenger.sent) == 1  # type: ignore[attr-defined]


class _RefusingMessenger(NullMessenger):
    async def post(self, place: Place, reply: Reply) -> str | None:
        raise DeliveryError("channel_not_found")


async def test_a_refused_post_leaves_the_draft_ready_to_approve_again(
    week_bot: Bot,
    sessions_patch: list,  # type: ignore[type-arg]
) -> None:
    sessions_patch.extend(seed(week_bot, sessions=1).sessions)
    draft_id = _draft_id(await _say(week_bot))
    week_bot.messenger = _RefusingMessenger()
    reply = await _press(week_bot, dg.APPROVE, draft_id)
    assert "could not post" in to_plain(reply) and "channel_not_found" in to_plain(reply)
    assert _drafts(week_bot)[0].status == "draft"
    week_bot.messenger = NullMessenger()
    assert "Published" in to_plain(await _press(week_bot, dg.APPROVE, draft_id))


async def test_edit_opens_a_form_and_saving_keeps_a_new_revision(
    week_bot: Bot,
    sessions_patch: list,  # type: ignore[type-arg]
) -> None:
    sessions_patch.extend(seed(week_bot, sessions=2).sessions)
    draft_id = _draft_id(await _say(week_bot))
    opened = await _press(week_bot, dg.EDIT, draft_id)
    form = opened.form
    assert form is not None and form.action == dg.EDIT_SAVE and form.value == f"{draft_id}:1"
    assert form.fields[0].name == "title" and form.fields[1].multiline
    assert len(form.fields) <= 5 and all(f.max_length <= 3000 for f in form.fields)
    original = "\n\n".join(f.initial for f in form.fields[1:])
    assert original == _revisions(week_bot)[0].body.strip()
    edited = original + "\n\nThanks all, see you Thursday."
    saved = await _press(
        week_bot, dg.EDIT_SAVE, draft_id, title="This Week in ML – edited", body1=edited
    )
    assert "Saved your edit as revision 2" in to_plain(saved)
    assert "Thanks all, see you Thursday." in to_plain(saved)
    revs = _revisions(week_bot)
    assert [(r.number, r.source) for r in revs] == [(1, "generated"), (2, "edited")]
    assert revs[0].body != revs[1].body  # the old revision is kept unchanged
    await _press(week_bot, dg.APPROVE, _value(saved))
    [(_, post)] = week_bot.messenger.sent  # type: ignore[attr-defined]
    assert post.blocks[0] == Header("This Week in ML – edited")
    assert "Thanks all, see you Thursday." in to_plain(post)


async def test_regenerate_asks_the_llm_again_and_keeps_both_revisions(
    week_bot: Bot,
    sessions_patch: list,
    fake_llm: OpenAIFake,  # type: ignore[type-arg]
) -> None:
    sessions_patch.extend(seed(week_bot, sessions=2).sessions)
    draft_id = _draft_id(await _say(week_bot))
    reply = await _press(week_bot, dg.REGENERATE, draft_id)
    assert "Regenerated as revision 2" in to_plain(reply)
    assert len(fake_llm.requests) == 6  # each time 2 summaries and the intro
    assert [r.source for r in _revisions(week_bot)] == ["generated", "regenerated"]
    assert _drafts(week_bot)[0].llm_calls == 6


async def test_discard_closes_the_draft_and_keeps_its_revisions(
    week_bot: Bot,
    sessions_patch: list,  # type: ignore[type-arg]
) -> None:
    sessions_patch.extend(seed(week_bot, sessions=1).sessions)
    draft_id = _draft_id(await _say(week_bot))
    reply = await _press(week_bot, dg.DISCARD, draft_id)
    assert reply.replace and "Discarded" in to_plain(reply)
    assert "discarded" in to_plain(await _press(week_bot, dg.APPROVE, draft_id))
    assert week_bot.messenger.sent == [] and len(_revisions(week_bot)) == 1  # type: ignore[attr-defined]


async def test_a_button_on_another_groups_draft_needs_that_groups_organizer(
    week_bot: Bot,
    sessions_patch: list,  # type: ignore[type-arg]
) -> None:
    sessions_patch.extend(seed(week_bot, sessions=1).sessions)
    draft_id = _draft_id(await _say(week_bot))
    other_place = Place("console", "local", "random")
    event = Action(dg.APPROVE, str(draft_id), MEMBER, other_place)
    [reply] = await week_bot.handle(event, _no_followups)
    assert reply.private and "belongs to another channel's reading group" in to_plain(reply)
    assert week_bot.messenger.sent == []  # type: ignore[attr-defined]


def test_weeks_parse_and_label() -> None:
    now = at(WEEK)
    assert periods.Week.parse("", now=now) == WEEK
    assert periods.Week.parse("2026-w47", now=now) == WEEK
    assert WEEK.start.isoformat() == "2026-11-16T00:00:00+00:00"
    assert periods.Week(2026, 49).date_label == "30 November – 6 December 2026"
    assert periods.Quarter.parse("2026-Q4").end.isoformat() == "2027-01-01T00:00:00+00:00"


async def test_the_weeks_intro_comes_in_the_first_papers_call_checked_and_cached(
    week_bot: Bot,
    sessions_patch: list,
    fake_llm: OpenAIFake,  # type: ignore[type-arg]
) -> None:
    """Three papers are three calls, not four: the intro rides in the first
    paper's call, is checked like an intro asked on its own, and is cached,
    so a second /digest makes no call."""
    s = seed(week_bot, sessions=3)
    sessions_patch.extend(s.sessions)
    invented = "Geoffrey Hinton called it the paper of the decade."
    carried = []

    def script(system: str, user: str) -> dict[str, Any] | None:
        if "opens the post for the period" in system:
            raise AssertionError("the intro was asked in a call of its own")
        if 'opening paragraph as "intro"' not in user:
            return None  # the other papers: the fake's usual answers
        carried.append(user)
        answer = fake_llm._summary(user)
        answer["intro"] = f"The group read {s.papers[0].title} this week. {invented}"
        return answer

    fake_llm.script = script
    before = len(fake_llm.requests)
    text = to_plain(await _say(week_bot))
    assert len(fake_llm.requests) - before == 3 and len(carried) == 1
    assert f"The group read {s.papers[0].title} this week." in text
    assert invented not in text  # the check dropped the invented sentence
    for paper in s.papers:
        assert paper.title in carried[0]  # the intro is asked about every paper
    again = len(fake_llm.requests)
    [draft] = _drafts(week_bot)
    await _press(week_bot, dg.DISCARD, f"{draft.id}:{draft.revision}")
    second = to_plain(await _say(week_bot))
    assert len(fake_llm.requests) == again  # tl;drs, write-ups and the intro: all cached
    assert f"The group read {s.papers[0].title} this week." in second


async def test_an_answer_without_the_intro_gets_it_asked_on_its_own(
    week_bot: Bot,
    sessions_patch: list,
    fake_llm: OpenAIFake,  # type: ignore[type-arg]
) -> None:
    s = seed(week_bot, sessions=2)
    sessions_patch.extend(s.sessions)

    def script(system: str, user: str) -> dict[str, str] | None:
        if "opens the post for the period" not in system:
            return None  # the tl;drs, without an intro
        return {"intro": f"Both papers this week, {s.papers[1].title} among them, were read."}

    fake_llm.script = script
    before = len(fake_llm.requests)
    text = to_plain(await _say(week_bot))
    assert len(fake_llm.requests) - before == 3  # two papers, then the intro alone
    assert f"{s.papers[1].title} among them, were read." in text


async def test_the_draft_says_what_the_grounding_check_dropped_from_its_run(
    week_bot: Bot,
    sessions_patch: list,
    fake_llm: OpenAIFake,  # type: ignore[type-arg]
) -> None:
    s = seed(week_bot, sessions=1)
    sessions_patch.extend(s.sessions)
    invented = "Geoffrey Hinton called it the paper of the decade."

    def script(system: str, user: str) -> dict[str, str] | None:
        if "opens the post for the period" not in system:
            return None  # the summaries: the fake's usual answers
        return {"intro": f"The group read {s.papers[0].title}. {invented}"}

    fake_llm.script = script
    text = to_plain(await _say(week_bot))
    assert invented not in text and s.papers[0].title in text
    assert text.count("1 sentence dropped by the grounding check") == 1
    [draft] = _drafts(week_bot)
    assert (draft.quotes_dropped, draft.sentences_dropped) == (0, 1)
