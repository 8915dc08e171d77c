"""Slack saying no — ``ratelimited``, ``channel_not_found``, ``invalid_auth`` —
through the real code paths: a `/propose` served over signed HTTP whose card
post is refused, and a scheduled reminder sent through the real
SlackMessenger. No crash, the command still answers within Slack's deadline,
and nothing is lost: the card is retried or comes another way, the proposal
is kept, and a refused reminder is retried later and sent exactly once.

SlackMessenger's own error mapping is tested in
tests/adapters/slack/test_messenger.py; this file reuses the Slack engineer's
fake and harness."""

from __future__ import annotations

import logging
from datetime import UTC, timedelta

import pytest
from sqlmodel import select

from adapters.slack.client import RATE_LIMIT_RETRIES, make_web_client
from adapters.slack.messenger import SlackMessenger
from bot.app import Bot
from bot.infra.clock import ManualClock
from bot.infra.settings import Settings
from storage.schedule.tables import Delivery, MeetingSession
from tests.adapters.slack import conftest as slack_fixtures
from tests.adapters.slack.conftest import SlackHarness
from tests.fakes.slack_api import Call, FakeSlack
from tests.schedule.conftest import START, run_until
from tests.schedule.test_reminders import setup_group

# The Slack engineer's fixtures: the fake Web API and the app served over HTTP.
fake_slack = slack_fixtures.fake_slack
slack_settings = slack_fixtures.slack_settings
slack = slack_fixtures.slack

TITLE = "Heat-bath random walks with Markov bases"


def _cards(calls: list[Call]) -> list[Call]:
    return [c for c in calls if c.method == "chat.postMessage" and TITLE in str(c.blocks)]


async def test_a_rate_limited_card_post_waits_and_is_posted_once(slack: SlackHarness) -> None:
    slack.fake.ratelimit("chat.postMessage", count=1, retry_after=1)
    status, seconds = await slack.command("propose", "1605.08386")
    assert status == 200 and seconds < 3.0
    await slack.fake.wait_for(lambda calls: len(_cards(calls)) == 2, within=15)
    attempts = _cards(slack.fake.calls)
    assert attempts[1].at - attempts[0].at >= 0.9, "Retry-After was not honoured"
    assert not slack.fake.calls_to("response_url"), "the card must not also go another way"


async def test_channel_not_found_sends_the_card_through_the_command_instead(
    slack: SlackHarness,
) -> None:
    slack.fake.fail("chat.postMessage", "channel_not_found")
    status, seconds = await slack.command("propose", "1605.08386")
    assert status == 200 and seconds < 3.0
    (answer,) = await slack.fake.wait_calls("response_url")
    assert answer.args["response_type"] == "in_channel"
    assert TITLE in str(answer.args["blocks"])


async def test_invalid_auth_on_the_card_keeps_the_proposal_logs_and_answers_the_next_command(
    slack: SlackHarness, caplog: pytest.LogCaptureFixture
) -> None:
    slack.fake.fail("chat.postMessage", "invalid_auth")
    caplog.set_level(logging.WARNING)
    status, seconds = await slack.command("propose", "1605.08386")
    assert status == 200 and seconds < 3.0
    await slack.fake.wait_for(lambda calls: _cards(calls), within=10)
    await slack.bot.drain(5.0)
    assert any("invalid_auth" in r.getMessage() for r in caplog.records), "not reported"
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    # The bot keeps serving, and the proposal is there.
    seen = len(slack.fake.calls)
    status, _ = await slack.command("queue")
    assert status == 200
    answers = await slack.fake.wait_for(
        lambda calls: [c for c in calls[seen:] if c.method in ("chat.postMessage", "response_url")]
    )
    assert TITLE in str(answers[0].args), answers[0].args


def _refuse(fake: FakeSlack, code: str) -> None:
    if code == "ratelimited":  # more 429s than the client retries
        fake.ratelimit("chat.postMessage", count=RATE_LIMIT_RETRIES + 1, retry_after=0)
    else:
        fake.fail("chat.postMessage", code)


@pytest.mark.parametrize("code", ["ratelimited", "channel_not_found", "invalid_auth"])
async def test_a_refused_reminder_is_retried_later_and_sent_exactly_once(
    bot: Bot,
    slack_settings: Settings,
    fake_slack: FakeSlack,
    code: str,
) -> None:
    bot.settings = slack_settings
    bot.clock = ManualClock(START)
    bot.messenger = SlackMessenger(make_web_client(slack_settings))
    await setup_group(bot)

    def first(*, session):  # type: ignore[no-untyped-def]
        return session.exec(select(MeetingSession).order_by(MeetingSession.starts_at)).first()  # type: ignore[arg-type]

    meeting = await bot.db(first)
    starts = meeting.starts_at.replace(tzinfo=UTC)
    key = f"session:{meeting.id}:channel-1h"
    await run_until(bot, starts - timedelta(hours=1, minutes=1))
    before = len(fake_slack.calls_to("chat.postMessage"))
    _refuse(fake_slack, code)
    sent = await run_until(bot, starts - timedelta(minutes=1))

    def statuses(*, session):  # type: ignore[no-untyped-def]
        return {d.key: (d.status, d.attempts) for d in session.exec(select(Delivery)).all()}

    status, attempts = (await bot.db(statuses))[key]
    assert status == "sent" and attempts >= 2, (status, attempts)
    assert [s.key for _, s in sent].count(key) == 1
    posts = fake_slack.calls_to("chat.postMessage")[before:]
    assert len(posts) >= 2, "the refused post was never attempted again"
