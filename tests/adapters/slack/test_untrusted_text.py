"""Untrusted text (an arXiv title and abstract, a proposer's reason) through
the real Slack adapter over HTTP: what the fake Slack API records has no
formatting that came from the text, no bidi or zero-width controls, and no
clickable foreign link; the paper's own link stays a link."""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import select

from bot.app import Bot
from storage.papers.tables import Paper
from tests.adapters.slack.conftest import SlackHarness
from tests.adapters.slack.test_http_interactivity import _cards, press

HOSTILE_TITLE = "*Bold* _it_ ~strike~ `code` ```fence``` \u202eevil\u200b \u2066iso\u2069"
HOSTILE_ABSTRACT = (
    "We show *this* works. Visit https://evil.example/login now. x_t and snake_case stay. "
    "> quoted \u202egnp.exe"
)
CONTROLS = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]")


def _mrkdwn_objects(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for b in blocks:
        if isinstance(b.get("text"), dict) and b["text"].get("type") == "mrkdwn":
            out.append(b["text"])
        out += [f for f in b.get("fields") or [] if f.get("type") == "mrkdwn"]
        out += [e for e in b.get("elements") or [] if e.get("type") == "mrkdwn"]
    return out


def _assert_inert(blocks: list[dict[str, Any]], *, abstract: bool = True) -> str:
    objects = _mrkdwn_objects(blocks)
    assert objects and all(o.get("verbatim") is True for o in objects)
    text = "\n".join(o["text"] for o in objects)
    assert not CONTROLS.search(text)
    assert "https://evil.example" not in text
    if abstract:
        assert "evil.example/login" in text
    for raw in ("*Bold*", "_it_", "~strike~", "`code`", "```"):
        assert raw not in text, raw
    assert "∗Bold∗" in text and "＿it＿" in text and "∼strike∼" in text and "ˋcodeˋ" in text
    assert "\n&gt;" not in text and not text.startswith("&gt;")
    return text


async def _make_hostile(bot: Bot) -> None:
    def edit(*, session):  # type: ignore[no-untyped-def]
        paper = session.exec(select(Paper)).one()
        paper.title = HOSTILE_TITLE
        paper.abstract = HOSTILE_ABSTRACT
        session.add(paper)

    await bot.db(edit)


async def test_queue_and_card_show_untrusted_text_literally(slack: SlackHarness) -> None:
    await slack.command("propose", "1605.08386 because *everyone* ~must~ read https://evil.example")
    (card,) = await slack.fake.wait_for(_cards, within=15)
    await _make_hostile(slack.bot)

    await slack.command("queue")
    queue = (await slack.fake.wait_calls("chat.postMessage", 2))[1]
    text = _assert_inert(queue.blocks, abstract=False)
    assert "<https://arxiv.org/abs/1605.08386|" in text  # the paper's own link is a link

    # The card, re-rendered by an upvote, shows the abstract and the reason.
    payload = press(card, "1700000000.000001", user="UBOB", response_url=slack.fake.response_url())
    assert await slack.interactive(payload) == 200
    (update,) = await slack.fake.wait_calls("chat.update")
    text = _assert_inert(update.blocks)
    assert "x_t and snake_case stay" in text  # marks inside words are harmless: kept
    assert "∗everyone∗ ∼must∼ read evil.example" in text
    assert "<https://arxiv.org/abs/1605.08386|" in text
    assert not CONTROLS.search(update.args["text"])


def test_lookalikes_are_documented_and_visible() -> None:
    from adapters.slack.render import LOOKALIKES

    assert set(LOOKALIKES) == {"*", "_", "~", "`"}
    assert all(not CONTROLS.search(v) for v in LOOKALIKES.values())
