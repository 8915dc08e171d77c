"""The App Home tab: published with views.publish when the user opens it."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from adapters.slack.home import home_view
from bot.schedule.home_view import GroupHome, HomeData, home_blocks
from tests.adapters.slack.conftest import SlackHarness, fixture
from tests.fakes.slack_api import Call


def _home_opened(user: str) -> dict:  # type: ignore[type-arg]
    """An event_callback envelope (as in the recorded reaction one) carrying
    an app_home_opened event."""
    body = copy.deepcopy(fixture("bolt_python_tests/event_callback_reaction_added.json"))
    body["event_id"] = f"EvHome{user}"
    body["event"] = {
        "type": "app_home_opened",
        "user": user,
        "channel": "D111",
        "tab": "home",
        "event_ts": "1700000000.1",
    }
    return body


def _text(call: Call) -> str:
    view = call.args["view"]
    parts = []
    for b in view["blocks"]:
        if isinstance(b.get("text"), dict):
            parts.append(b["text"]["text"])
        for e in b.get("elements", []):
            parts.append(e.get("text", ""))
    return "\n".join(parts)


async def test_home_tab_shows_the_top_of_the_queue(slack: SlackHarness) -> None:
    await slack.event(_home_opened("UALICE"))
    (empty,) = await slack.fake.wait_calls("views.publish")
    assert empty.args["user_id"] == "UALICE"
    assert "/propose" in _text(empty)

    await slack.command("propose", "1605.08386", user="UALICE")
    await slack.fake.wait_calls("chat.postMessage")
    body = _home_opened("UALICE")
    body["event_id"] = "EvHome2"
    await slack.event(body)
    published = await slack.fake.wait_calls("views.publish", 2)
    view = published[1].args["view"]
    assert view["type"] == "home" and len(view["blocks"]) <= 100
    text = _text(published[1])
    assert "#C111" in text and "Top of the queue" in text
    assert "Heat-bath random walks with Markov bases" in text


def test_home_shows_next_sessions_and_the_viewers_turn() -> None:
    when = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
    data = HomeData(
        groups=[
            GroupHome(
                channel="C111",
                sessions=[(when, "Ada <!here>", "Attention Is All You Need")],
                queue=[],
                queue_total=0,
                my_turn=when,
            ),
            GroupHome(channel="C222", sessions=None, queue=[], queue_total=0),
        ]
    )
    view = home_view(home_blocks(data))
    text = "\n".join(
        b["text"]["text"] if "text" in b else b.get("elements", [{}])[0].get("text", "")
        for b in view["blocks"]
        if b["type"] != "divider"
    )
    assert "Your next turn to present: *Tue 1 Dec 2026, 17:00 UTC*" in text
    assert "Ada &lt;!here&gt;: Attention Is All You Need" in text
    assert "#C222" in text and text.count("No sessions scheduled") == 0


async def test_home_tab_shows_the_viewers_next_turn_from_the_schedule(slack: SlackHarness) -> None:
    """With a session in the schedule, the viewer's own turn shows."""
    from storage.groups.tables import Group, Member
    from storage.schedule.tables import MeetingSession

    await slack.command("propose", "1605.08386", user="UALICE")
    await slack.fake.wait_calls("chat.postMessage")
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)

    def schedule(*, session):  # type: ignore[no-untyped-def]
        group = session.exec(select(Group)).one()
        alice = session.exec(select(Member).where(Member.user_id == "UALICE")).one()
        session.add(
            MeetingSession(
                group_id=group.id,
                starts_at=starts,
                ends_at=starts + timedelta(hours=1),
                presenter_member_id=alice.id,
                created_at=starts - timedelta(days=7),
            )
        )

    await slack.bot.db(schedule)
    await slack.event(_home_opened("UALICE"))
    (published,) = await slack.fake.wait_calls("views.publish")
    text = _text(published)
    when = f"{starts:%a} {starts.day} {starts:%b %Y, %H:%M} UTC"  # no leading zero
    assert f"Your next turn to present: *{when}*" in text
    assert "Next sessions" in text and "name-ualice" in text
