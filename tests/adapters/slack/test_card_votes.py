"""A card stays one message however long its reason, and a vote edits that
one message in place: it never posts another (on SQLite and PostgreSQL)."""

from __future__ import annotations

from bot.chat.events import Action
from bot.chat.replies import Button, Buttons, Reply, Text
from bot.chat.router import Ctx
from tests.adapters.slack.conftest import SlackHarness
from tests.adapters.slack.test_http_interactivity import _button, _cards, press

POSTED_TS = "1700000000.000001"  # the ts the fake gives the first message


def _posts(slack: SlackHarness) -> list:  # type: ignore[type-arg]
    return slack.fake.calls_to("chat.postMessage")


async def test_a_card_with_a_13k_reason_is_one_message_and_votes_never_grow_it(
    slack: SlackHarness,
) -> None:
    reason = ("This paper matters for our retrieval work because " * 261).strip()
    assert len(reason) > 13_000
    await slack.command("propose", f"1605.08386 {reason}")
    (card,) = await slack.fake.wait_for(_cards, within=15)
    assert len(_posts(slack)) == 1 and card.args.get("thread_ts") is None
    shown = str(card.blocks)
    assert "/queue 1605.08386" in shown and len(shown) < 6_000
    (told,) = await slack.fake.wait_calls("response_url")  # the proposer hears of the cut
    assert "2,000" in str(told.args) and "characters" in str(told.args)
    for n, user in enumerate(["UBOB", "UCAROL", "UBOB"], start=1):
        url = slack.fake.response_url(f"b{n}")
        await slack.interactive(press(card, POSTED_TS, user=user, response_url=url))
        updates = await slack.fake.wait_calls("chat.update", n)
        assert all(u.args["ts"] == POSTED_TS for u in updates)
    assert _button(updates[-1].blocks)["text"]["text"] == "▲ Upvote (2)"
    assert len(_posts(slack)) == 1  # three votes, still the one card


async def test_a_replacement_too_long_for_one_message_still_edits_just_that_message(
    slack: SlackHarness,
) -> None:
    """The adapter's own guard: whatever the core sends as a replacement is
    fitted into the one message the button was on (buttons kept)."""
    long_text = "\n\n".join(f"Paragraph {n}: " + "words " * 400 for n in range(12))

    async def grow(ctx: Ctx) -> list[Reply]:
        assert isinstance(ctx.event, Action)
        return [
            Reply(
                blocks=(Text(long_text), Buttons((Button("▲ Again", "grow", "1"),))),
                replace=True,
            )
        ]

    slack.bot.router.action("grow")(grow)
    await slack.command("propose", "1605.08386")
    (card,) = await slack.fake.wait_for(_cards, within=15)
    payload = press(card, POSTED_TS, user="UBOB", response_url=slack.fake.response_url("g"))
    payload["actions"][0].update(action_id="grow:1", value="1")
    await slack.interactive(payload)
    (update,) = await slack.fake.wait_calls("chat.update")
    assert update.args["ts"] == POSTED_TS
    assert _button(update.blocks)["text"]["text"] == "▲ Again"
    assert "Shortened to fit" in str(update.blocks)
    assert len(_posts(slack)) == 1  # nothing posted in the card's thread
