"""/schedule ics over real HTTP: the calendar is uploaded as a file (files
upload v2 against the fake Slack API), to the user's direct messages because
the answer is private; never pasted into the channel."""

from __future__ import annotations

from tests.adapters.slack.conftest import ADMIN, CHANNEL, SlackHarness
from tests.fakes.slack_api import Call

MEETING = 'config meeting "Thu 16:00 Europe/Berlin"'


async def _meeting_set(slack: SlackHarness) -> None:
    await slack.command("readgroup", MEETING, user=ADMIN)
    await slack.fake.wait_for(
        lambda calls: [c for c in calls if c.method == "chat.postMessage" and "meets" in c.raw]
    )


def _texts(calls: list[Call]) -> str:
    return "\n".join(c.raw for c in calls if c.method in ("chat.postMessage", "response_url"))


async def test_schedule_ics_is_uploaded_to_the_users_direct_messages(slack: SlackHarness) -> None:
    await _meeting_set(slack)
    await slack.command("schedule", "ics", user="UALICE")
    (complete,) = await slack.fake.wait_calls("files.completeUploadExternal")
    (asked,) = slack.fake.calls_to("files.getUploadURLExternal")
    (sent,) = slack.fake.calls_to("file_upload")
    content = sent.args["content"]
    assert content.startswith(b"BEGIN:VCALENDAR") and content.count(b"BEGIN:VEVENT") == 8
    assert asked.args["filename"] == "readgroup-schedule.ics"
    assert int(asked.args["length"]) == len(content)
    (done,) = complete.args["files"]
    assert done == {"id": sent.args["file_id"], "title": "readgroup-schedule.ics"}
    # Private: into the DM the bot opened with the user, not the channel.
    (opened,) = slack.fake.calls_to("conversations.open")
    assert opened.args["users"] == "UALICE"
    assert complete.args["channel_id"] == "DUALICE"
    assert "readgroup-schedule.ics" in complete.args["initial_comment"]
    assert slack.fake.files[sent.args["file_id"]]["completed"] is not None
    # The channel gets only an ephemeral pointer, and nobody sees the raw text.
    pointer = (await slack.fake.wait_calls("response_url"))[-1]
    assert pointer.args["response_type"] == "ephemeral"
    assert "I sent you readgroup-schedule.ics in a direct message" in pointer.args["text"]
    assert "BEGIN:VCALENDAR" not in _texts(slack.fake.calls)
    assert not [c for c in slack.fake.calls if c.args.get("channel_id") == CHANNEL]


async def test_when_slack_refuses_the_upload_the_calendar_comes_as_text(
    slack: SlackHarness,
) -> None:
    await _meeting_set(slack)
    slack.fake.fail("files.getUploadURLExternal", "missing_scope")
    await slack.command("schedule", "ics", user="UALICE")
    answer = await slack.fake.wait_for(
        lambda calls: [c for c in calls if c.method == "response_url" and "VCALENDAR" in c.raw]
    )
    (answer,) = answer
    assert answer.args["response_type"] == "ephemeral"
    assert "missing_scope" in answer.raw and "BEGIN:VEVENT" in answer.raw
    assert not slack.fake.calls_to("files.completeUploadExternal")
