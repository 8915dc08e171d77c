"""Discussion threads end to end through the Slack adapter: /present opens a
thread on the card, replies in it are stored as the session's discussion, and a
💡 (`bulb`) reaction marks a takeaway that /takeaways lists."""

from __future__ import annotations

import copy
from typing import Any

from sqlmodel import Session, select

from storage.schedule.tables import DiscussionMessage, MeetingSession
from tests.adapters.slack.conftest import ADMIN, CHANNEL, TEAM, SlackHarness, fixture


def thread_reply(thread_ts: str, ts: str, text: str, *, event_id: str) -> dict[str, Any]:
    body = copy.deepcopy(fixture("bolt_python_tests/event_callback_message_in_thread.json"))
    body["event_id"] = event_id
    body["team_id"] = TEAM
    event = body["event"]
    event.update(channel=CHANNEL, thread_ts=thread_ts, ts=ts, text=text, user="UBOB")
    event.pop("blocks", None)
    return body


def bulb(ts: str, *, event_id: str, removed: bool = False) -> dict[str, Any]:
    body = copy.deepcopy(fixture("bolt_python_tests/event_callback_reaction_added.json"))
    body["event_id"] = event_id
    body["team_id"] = TEAM
    event = body["event"]
    event.update(
        type="reaction_removed" if removed else "reaction_added", reaction="bulb", user="UCAROL"
    )
    event["item"] = {"type": "message", "channel": CHANNEL, "ts": ts}
    return body


async def test_thread_messages_and_bulb_takeaways_are_stored_from_slack(
    slack: SlackHarness,
) -> None:
    fake = slack.fake
    assert (
        await slack.command("readgroup", 'config meeting "Thu 16:00 Europe/Berlin"', user=ADMIN)
    )[0] == 200
    assert (await slack.command("rotation", "join", user=ADMIN))[0] == 200
    await slack.command("propose", "1605.08386", user=ADMIN)
    await fake.wait_for(lambda calls: any("Heat-bath" in c.raw for c in calls))
    await slack.command("present", "1605.08386", user=ADMIN)
    posts = await fake.wait_for(
        lambda calls: [
            c
            for c in calls
            if c.method == "chat.postMessage" and "Discuss it in this thread" in c.raw
        ]
    )
    assert posts
    await slack.bot.drain(5.0)  # /present records the thread after the post returns
    with Session(slack.bot.engine) as s:
        meeting = s.exec(select(MeetingSession).where(MeetingSession.thread_id.is_not(None))).one()  # type: ignore[union-attr]
    card_ts = meeting.thread_id
    assert card_ts and card_ts.startswith("1700000000.")  # a ts the fake Slack API handed out
    reply_ts = "1800000000.000100"
    body = thread_reply(
        card_ts, reply_ts, "The bound is uniform in the fiber size!", event_id="EvT1"
    )
    for retry in (None, 1):  # a retried delivery stores nothing twice
        assert await slack.event(body, retry=retry) == 200
    await slack.event(thread_reply(card_ts, "1800000000.000200", "Agreed", event_id="EvT2"))
    await slack.bot.drain(3.0)  # people react after reading: the messages are in first
    await slack.event(bulb(reply_ts, event_id="EvB1"))
    await slack.bot.drain(3.0)

    with Session(slack.bot.engine) as s:
        stored = s.exec(select(DiscussionMessage).order_by(DiscussionMessage.message_id)).all()
    assert [m.text for m in stored] == ["The bound is uniform in the fiber size!", "Agreed"]
    assert [m.takeaway for m in stored] == [True, False]

    before = len(fake.calls)
    await slack.command("takeaways", "", user=ADMIN)
    answer = await fake.wait_for(
        lambda calls: [c for c in calls[before:] if "uniform in the fiber size" in c.raw]
    )
    assert answer and "Agreed" not in answer[0].raw

    await slack.event(bulb(reply_ts, event_id="EvB2", removed=True))
    await slack.bot.drain(3.0)
    with Session(slack.bot.engine) as s:
        first = s.exec(
            select(DiscussionMessage).where(DiscussionMessage.text.startswith("The bound"))
        ).one()  # type: ignore[attr-defined]
    assert not first.takeaway
