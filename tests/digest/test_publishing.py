"""Publishing survives being interrupted: the claim is a lease that lapses,
each posted part of a split post is recorded, and a retry (the next Approve,
or the recovery at start) posts only the missing parts, exactly once overall."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from bot.app import Bot
from bot.chat.events import Place
from bot.chat.messenger import DeliveryError, NullMessenger
from bot.chat.replies import Reply, to_plain
from bot.digest import publishing, revisions
from bot.digest import weekly as dg
from bot.digest.post_tags import part_tag
from bot.infra.clock import ManualClock
from storage.digest.tables import DigestDraft
from tests.digest.conftest import WEEK, at, seed
from tests.digest.test_digest_flow import _drafts, _press, _say, _value


class StallingMessenger(NullMessenger):
    """Takes ``ok`` posts, then stalls (Slack's 429 wait) or refuses the next."""

    def __init__(self, ok: int, *, refuse: bool = False) -> None:
        super().__init__()
        self.ok = ok
        self.refuse = refuse
        self.stalled = asyncio.Event()

    async def post(self, place: Place, reply: Reply) -> str | None:
        if len(self.sent) >= self.ok:
            if self.refuse:
                raise DeliveryError("Slack refused chat.postMessage to general: ratelimited")
            self.stalled.set()
            await asyncio.Event().wait()  # waits until the process is killed
        await super().post(place, reply)
        return f"ts{len(self.sent)}"


@pytest.fixture
def week_bot(llm_bot: Bot, sessions_patch: list, monkeypatch: pytest.MonkeyPatch) -> Bot:  # type: ignore[type-arg]
    monkeypatch.setattr(publishing, "PART_CHARS", 1500)  # so the post has several parts
    llm_bot.clock = ManualClock(at(WEEK))
    sessions_patch.extend(seed(llm_bot, sessions=3, also=2).sessions)
    return llm_bot


def _parts_of(bot: Bot) -> list[Reply]:
    """The parts as published: each tagged, so a taker can look it up."""
    view = bot.db_sync(revisions.load_view, draft_id=_drafts(bot)[0].id)
    assert view is not None and view.draft.id is not None
    rev = view.revision
    return [
        replace(part, tag=part_tag(view.draft.id, rev.number, n))
        for n, part in enumerate(publishing.split_post(rev.title, rev.body), 1)
    ]


async def _killed_after(bot: Bot, ok: int) -> tuple[str, StallingMessenger]:
    """Approve, let ``ok`` parts go out, then kill the publisher mid-wait."""
    value = _value(await _say(bot))
    stalling = StallingMessenger(ok)
    bot.messenger = stalling
    task = asyncio.ensure_future(_press(bot, dg.APPROVE, value))
    await asyncio.wait_for(stalling.stalled.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    return value, stalling


async def test_a_publish_killed_between_parts_posts_only_the_rest_after_the_lease_lapses(
    week_bot: Bot,
) -> None:
    value, before = await _killed_after(week_bot, ok=1)
    parts = _parts_of(week_bot)
    assert len(parts) >= 3 and [r for _, r in before.sent] == parts[:1]

    # the lease is live: the killed publisher might still be waiting
    week_bot.messenger = after = NullMessenger()
    busy = await _press(week_bot, dg.APPROVE, value)
    assert "being published right now" in to_plain(busy)
    assert "being published right now" in to_plain(await _say(week_bot))
    assert after.sent == [] and _drafts(week_bot)[0].status == "publishing"

    # the lease lapsed: /digest offers to finish, never "already published"
    week_bot.clock.advance(publishing.LEASE + timedelta(seconds=1))  # type: ignore[attr-defined]
    offer = to_plain(await _say(week_bot))
    assert "was interrupted after 1 of" in offer and "already published" not in offer
    assert "Press Approve & publish below to post the remaining" in offer
    assert len(_drafts(week_bot)) == 1 and after.sent == []

    done = await _press(week_bot, dg.APPROVE, value)
    text = to_plain(done)
    assert "Finished publishing" in text and "I posted only the missing parts (2, 3" in text
    assert [r for _, r in after.sent] == parts[1:]  # each part once, overall
    [draft] = _drafts(week_bot)
    assert draft.status == "published" and draft.published_message == "ts1"
    again = await _press(week_bot, dg.APPROVE, value)
    assert "already published" in to_plain(again) and len(after.sent) == len(parts) - 1


async def test_killed_while_waiting_out_a_429_before_any_post_the_next_approve_publishes(
    week_bot: Bot,
) -> None:
    value, before = await _killed_after(week_bot, ok=0)
    assert before.sent == []
    week_bot.clock.advance(publishing.LEASE + timedelta(seconds=1))  # type: ignore[attr-defined]
    week_bot.messenger = after = NullMessenger()
    offer = await _say(week_bot)  # not "already published from another draft"
    assert "was interrupted before anything was posted" in to_plain(offer)
    assert "already published" not in to_plain(offer) and len(_drafts(week_bot)) == 1
    done = to_plain(await _press(week_bot, dg.APPROVE, _value(offer)))
    assert (
        "Finished publishing" in done
        and "no part of it was recorded as posted, so I posted it now" in done
    )
    assert [r for _, r in after.sent] == _parts_of(week_bot)
    assert _drafts(week_bot)[0].status == "published"
    assert value == _value(offer)


async def _killed_after_the_last_part(week_bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    """Approve, and the process dies after posting every part but before
    marking the draft published."""

    def killed(**kw: object) -> bool:
        raise asyncio.CancelledError

    real_finish = publishing.finish
    monkeypatch.setattr(publishing, "finish", killed)
    task = asyncio.ensure_future(_press(week_bot, dg.APPROVE, _value(await _say(week_bot))))
    with pytest.raises(asyncio.CancelledError):
        await task
    monkeypatch.setattr(publishing, "finish", real_finish)


async def test_killed_after_the_last_part_the_recovery_at_start_posts_nothing_again(
    week_bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _killed_after_the_last_part(week_bot, monkeypatch)
    parts_total = len(_parts_of(week_bot))
    posted = list(week_bot.messenger.sent)  # type: ignore[attr-defined]
    assert len(posted) == parts_total and _drafts(week_bot)[0].status == "publishing"

    # start-up while the lease is live: nothing yet, but it says when to look again
    restarted = NullMessenger()
    week_bot.messenger = restarted
    next_check = await publishing.recover_once(week_bot)
    assert next_check is not None and restarted.sent == []

    week_bot.clock.set(next_check + timedelta(seconds=1))  # type: ignore[attr-defined]
    assert await publishing.recover_once(week_bot) is None
    [(to, dm)] = restarted.sent  # only the note to the approver, no part again
    assert to == "@alice"
    assert f"all {parts_total} parts had already been posted" in to_plain(dm)
    assert _drafts(week_bot)[0].status == "published"


async def test_a_refusal_between_parts_lets_the_next_approve_post_the_rest_at_once(
    week_bot: Bot,
) -> None:
    value = _value(await _say(week_bot))
    refusing = StallingMessenger(2, refuse=True)
    week_bot.messenger = refusing
    reply = to_plain(await _press(week_bot, dg.APPROVE, value))
    total = len(_parts_of(week_bot))
    assert f"I posted 2 of {total} parts of the post to #general" in reply
    assert "ratelimited" in reply and f"post the remaining {total - 2} part" in reply
    assert _drafts(week_bot)[0].status == "publishing"

    week_bot.messenger = after = NullMessenger()  # no waiting: the lease was given back
    done = to_plain(await _press(week_bot, dg.APPROVE, value))
    assert "Finished publishing" in done and f"2 of {total} parts had already been posted" in done
    assert [r for _, r in refusing.sent + after.sent] == _parts_of(week_bot)
    assert _drafts(week_bot)[0].status == "published"


async def test_a_refused_first_part_leaves_a_draft_and_no_lease(week_bot: Bot) -> None:
    value = _value(await _say(week_bot))
    week_bot.messenger = StallingMessenger(0, refuse=True)
    reply = to_plain(await _press(week_bot, dg.APPROVE, value))
    assert "could not post to the announcement channel" in reply and "ratelimited" in reply
    [draft] = _drafts(week_bot)
    assert draft.status == "draft" and draft.publishing_until is None
    week_bot.messenger = NullMessenger()
    assert "Published" in to_plain(await _press(week_bot, dg.APPROVE, value))


async def test_only_one_of_two_takers_resumes_a_lapsed_publication(week_bot: Bot) -> None:
    value, _ = await _killed_after(week_bot, ok=1)
    week_bot.clock.advance(publishing.LEASE + timedelta(seconds=1))  # type: ignore[attr-defined]
    week_bot.messenger = after = NullMessenger()
    replies = await asyncio.gather(
        _press(week_bot, dg.APPROVE, value),
        publishing.recover_once(week_bot),
        _press(week_bot, dg.APPROVE, value),
    )
    assert [r for to, r in after.sent if to != "@alice"] == _parts_of(week_bot)[1:]
    texts = [to_plain(r) for r in replies if isinstance(r, Reply)]
    assert sum("Finished publishing" in t for t in texts) <= 1
    assert _drafts(week_bot)[0].status == "published"


async def test_a_slow_part_keeps_its_lease_so_nobody_else_takes_over(
    week_bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A publisher that is alive but waiting (Slack's 429s) renews its lease
    while it waits; only one that stopped loses it."""
    monkeypatch.setattr(publishing, "HEARTBEAT_SECONDS", 0.01)
    value = _value(await _say(week_bot))
    stalling = StallingMessenger(1)
    week_bot.messenger = stalling
    task = asyncio.ensure_future(_press(week_bot, dg.APPROVE, value))
    await asyncio.wait_for(stalling.stalled.wait(), 10)
    week_bot.clock.advance(publishing.LEASE + timedelta(seconds=1))  # type: ignore[attr-defined]
    await asyncio.sleep(0.2)  # a few heartbeats on the new time
    # (a takeover would stall on the same messenger: bound the wait)
    busy = await asyncio.wait_for(_press(week_bot, dg.APPROVE, value), 5)
    assert "being published right now" in to_plain(busy)
    assert len(stalling.sent) == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_claim_left_by_the_old_version_is_not_posted_again_without_a_person(
    week_bot: Bot,
) -> None:
    """Before the lease, a kill left 'publishing' with no record of what went
    out: the recovery leaves it alone, /digest explains, Approve decides."""
    value = _value(await _say(week_bot))

    def stuck(*, session):  # type: ignore[no-untyped-def]
        draft = session.get(DigestDraft, 1)
        draft.status, draft.approved_by, draft.approved_at = "publishing", "alice", at(WEEK)
        session.add(draft)

    week_bot.db_sync(stuck)
    assert await publishing.recover_once(week_bot) is None
    assert week_bot.messenger.sent == []  # type: ignore[attr-defined]
    offer = to_plain(await _say(week_bot))
    assert "did not record what it had posted" in offer and "Look in the announcement" in offer
    done = to_plain(await _press(week_bot, dg.APPROVE, value))
    assert "Finished publishing" in done and _drafts(week_bot)[0].status == "published"
    assert [r for _, r in week_bot.messenger.sent] == _parts_of(week_bot)  # type: ignore[attr-defined]


class TakingMessenger(NullMessenger):
    """Takes ``ok`` posts and answers them; takes the next one too but never
    answers (killed while Slack's answer was on the way). Finds what it took."""

    def __init__(self, ok: int) -> None:
        super().__init__()
        self.ok = ok
        self.stalled = asyncio.Event()

    async def post(self, place: Place, reply: Reply) -> str | None:
        await super().post(place, reply)
        if len(self.sent) > self.ok:
            self.stalled.set()
            await asyncio.Event().wait()
        return f"ts{len(self.sent)}"

    async def find_posted(self, place: Place, tag: str, since: object) -> str | None:
        tags = [r.tag for _, r in self.sent]
        return f"ts{tags.index(tag) + 1}" if tag in tags else None


async def test_a_part_taken_but_unrecorded_at_the_kill_is_found_not_posted_again(
    week_bot: Bot,
) -> None:
    value = _value(await _say(week_bot))
    before = TakingMessenger(ok=1)
    week_bot.messenger = before
    task = asyncio.ensure_future(_press(week_bot, dg.APPROVE, value))
    await asyncio.wait_for(before.stalled.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    parts = _parts_of(week_bot)
    assert len(parts) >= 3 and [r for _, r in before.sent] == parts[:2]
    assert week_bot.db_sync(publishing.posted_count, draft_id=_drafts(week_bot)[0].id) == 1

    week_bot.clock.advance(publishing.LEASE + timedelta(seconds=1))  # type: ignore[attr-defined]
    before.ok = 10**6  # the same Slack, answering again
    done = to_plain(await _press(week_bot, dg.APPROVE, value))
    assert [r for _, r in before.sent] == parts  # part 2 once: found, not posted again
    assert f"2 of {len(parts)} parts had already been posted" in done
    assert _drafts(week_bot)[0].status == "published"


async def test_the_start_finishes_an_interrupted_publication_through_the_probe(
    week_bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.digest import routes

    await _killed_after_the_last_part(week_bot, monkeypatch)
    assert _drafts(week_bot)[0].status == "publishing"
    week_bot.clock.advance(publishing.LEASE + timedelta(seconds=1))  # type: ignore[attr-defined]
    week_bot.messenger = restarted = NullMessenger()
    routes.start_recovery(week_bot)
    await week_bot.drain(10)
    assert _drafts(week_bot)[0].status == "published"
    [(to, _dm)] = restarted.sent  # the note to the approver; no part posted again
    assert to == "@alice"


async def test_a_start_with_nothing_being_published_does_not_load_the_recovery(
    week_bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.digest import routes

    ran: list[object] = []

    async def recorded(bot: object) -> None:
        ran.append(bot)  # (raising here would only be logged: it runs in a background task)

    monkeypatch.setattr(publishing, "run_recovery", recorded)
    await _say(week_bot)  # a draft, not approved
    routes.start_recovery(week_bot)
    await week_bot.drain(10)
    assert ran == [], "the recovery ran with no draft being published"
    assert _drafts(week_bot)[0].status == "draft"
