"""Rendering replies for Discord: markdown, escaping, mentions, limits."""

from __future__ import annotations

import random

import discord
import pytest

from adapters.discord.components import view_for
from adapters.discord.render import (
    CONTENT_MAX,
    DESCRIPTION_MAX,
    EMBED_TOTAL_MAX,
    FIELD_VALUE_MAX,
    FIELDS_MAX,
    DiscordMessage,
    custom_id,
    parse_custom_id,
    render_markup,
    render_reply,
)
from bot.chat.markup import bold, esc, link, mention
from bot.chat.replies import Button, Buttons, Context, Divider, Fields, Header, Reply, Text, say
from tests.adapters import long_digest

ZWSP = "\u200b"


def check_limits(messages: list[DiscordMessage]) -> None:
    for m in messages:
        assert len(m.content) <= CONTENT_MAX
        assert len(m.embeds) <= 10
        assert sum(len(e) for e in m.embeds) <= EMBED_TOTAL_MAX
        for e in m.embeds:
            assert len(e.description or "") <= DESCRIPTION_MAX
            assert len(e.title or "") <= 256
            assert len(e.fields) <= FIELDS_MAX
            for f in e.fields:
                assert len(f.name) <= 256 and 0 < len(f.value) <= FIELD_VALUE_MAX


def test_markup_becomes_discord_markdown() -> None:
    markup = (
        f"{bold('Bold')} _it_ `x_y` {link('the *paper*', 'https://arxiv.org/abs/1')} "
        f"{mention('53908232506183680')} {esc('a*b_c [x](http://evil)')}"
    )
    out = render_markup(markup)
    assert "**Bold**" in out and "*it*" in out and "`x_y`" in out
    assert "[the \\*paper\\*](https://arxiv.org/abs/1)" in out
    assert "<@53908232506183680>" in out
    # Untrusted text cannot format or link.
    # An escaped [ makes no masked link, and a bare URL loses its scheme so
    # Discord does not auto-link it (bot.chat.sanitize.unlink).
    assert "a\\*b\\_c \\[x](evil)" in out


@pytest.mark.parametrize(
    "evil",
    ["@everyone", "@here", "<@53908232506183680>", "<@&290926798626357999>", "<#345626669114982>"],
)
def test_untrusted_text_never_forms_a_mention(evil: str) -> None:
    out = render_markup(esc(f"hi {evil} there"))
    assert evil not in out
    assert ZWSP in out
    (msg,) = render_reply(say(esc(evil)))
    assert msg.allowed_mentions.to_dict() == {"parse": []}


def test_code_spans_with_backticks_stay_code_and_inert() -> None:
    out = render_markup("`a`b @everyone`")
    assert "@everyone" not in out


def test_only_intentional_mentions_may_ping() -> None:
    reply = say(f"{mention('53908232506183680')} you present next week. {esc('@everyone')}")
    (msg,) = render_reply(reply)
    assert msg.content.startswith("<@53908232506183680>")
    assert msg.allowed_mentions.to_dict() == {"parse": [], "users": [53908232506183680]}
    # A mention that is only in an embed does not ping, so it is not allowed either.
    card = Reply(blocks=(Header("Card"), Text(mention("53908232506183680"))))
    (msg,) = render_reply(card)
    assert msg.embeds and msg.allowed_mentions.to_dict() == {"parse": []}


def test_a_card_is_an_embed_with_title_fields_footer_lines_and_buttons() -> None:
    reply = Reply(
        blocks=(
            Header("Session 12"),
            Text(f"{bold(link('A paper', 'https://arxiv.org/abs/1605.08386'))}\nAda, Bo"),
            Fields((("Presenter", "Ada"), ("When", "Tue 18:00"))),
            Context("proposed by Bo"),
            Buttons((Button("▲ Upvote (1)", "upvote", "12", "primary"),)),
        )
    )
    (msg,) = render_reply(reply)
    (embed,) = msg.embeds
    assert embed.title == "Session 12"
    assert "[A paper](https://arxiv.org/abs/1605.08386)" in (embed.description or "")
    assert "-# proposed by Bo" in (embed.description or "")
    assert [(f.name, f.value) for f in embed.fields] == [
        ("Presenter", "Ada"),
        ("When", "Tue 18:00"),
    ]
    view = view_for(msg)
    assert view is not None and view.timeout is None
    (item,) = view.children
    assert isinstance(item, discord.ui.DynamicItem)
    assert item.item.custom_id == "rg:upvote:12"  # type: ignore[attr-defined]
    assert item.item.style == discord.ButtonStyle.primary  # type: ignore[attr-defined]


def test_a_card_whose_first_line_is_the_paper_link_gets_a_clickable_title() -> None:
    reply = Reply(
        blocks=(
            Text(
                f"{bold(link('Attention @everyone', 'https://arxiv.org/abs/1706.03762'))}\nVaswani"
            ),
            Context("arXiv:1706.03762"),
        )
    )
    (msg,) = render_reply(reply)
    (embed,) = msg.embeds
    assert embed.title == f"Attention @{ZWSP}everyone"
    assert embed.url == "https://arxiv.org/abs/1706.03762"
    assert (embed.description or "").startswith("Vaswani")


def test_custom_ids_round_trip_and_reject_overlong_values() -> None:
    assert parse_custom_id(custom_id("upvote_queue", "42")) == ("upvote_queue", "42")
    assert parse_custom_id(custom_id("digest", "2026-W47:3")) == ("digest", "2026-W47:3")
    assert parse_custom_id("click_one") is None
    with pytest.raises(ValueError, match="100"):
        custom_id("x", "9" * 120)


def _digest(size: int) -> Reply:
    """A long_form post of our own text (tests/adapters/long_digest.py), with every block kind."""
    text = long_digest.text(size)
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    blocks: list[object] = [Header("This Week in ML — 2026-W47")]
    for i in range(0, len(paragraphs), 6):
        chunk = paragraphs[i : i + 6]
        blocks.append(Text("\n\n".join(esc(p) for p in chunk)))
        if i % 24 == 0:
            blocks.append(Fields(tuple((f"Paper {j}", esc(p[:1500])) for j, p in enumerate(chunk))))
            blocks.append(Divider())
        if i % 30 == 0:
            blocks.append(Context("tl;dr drafted by the bot · " + esc(chunk[0][:120])))
    return Reply(blocks=tuple(blocks), long_form=True)  # type: ignore[arg-type]


def _alnum(text: str) -> str:
    return "".join(c for c in text if c.isalnum())


def test_a_40kb_digest_splits_into_messages_within_every_limit() -> None:
    reply = _digest(40_000)
    messages = render_reply(reply)
    check_limits(messages)
    assert len(messages) >= 2
    rendered = "\n".join(
        (e.description or "") + "".join(f.value for f in e.fields)
        for m in messages
        for e in m.embeds
    )
    # Nothing is lost: every paragraph's letters and digits appear, in order.
    flat = _alnum(rendered)
    for block in reply.blocks:
        if isinstance(block, Text):
            for para in block.markup.split("\n\n"):
                assert _alnum(para) in flat


def test_a_header_is_never_left_alone_at_the_end_of_a_message() -> None:
    big = "x " * 2000
    blocks = (Header("One"), Text(big), Text(big), Header("Two"), Text(big))
    messages = render_reply(Reply(blocks=blocks, long_form=True))  # type: ignore[arg-type]
    check_limits(messages)
    for m in messages:
        for e in m.embeds:
            assert e.description or e.fields, f"empty embed titled {e.title!r}"
    assert [e.title for m in messages for e in m.embeds if e.title] == ["One", "Two"]


def test_long_plain_text_splits_at_paragraphs_under_2000() -> None:
    paras = [f"Paragraph {i}: " + "word " * 60 for i in range(60)]
    (first, *rest) = render_reply(Reply(blocks=(Text("\n\n".join(paras)),), long_form=True))
    messages = [first, *rest]
    check_limits(messages)
    assert len(messages) > 5
    for m in messages:
        assert m.content.startswith("Paragraph ")  # each message starts at a paragraph
    assert sum(m.content.count("Paragraph ") for m in messages) == 60


def test_random_replies_always_fit() -> None:
    rng = random.Random(7)
    alphabet = "abc def *_`[]()<>@ \n\n"
    for _ in range(40):
        blocks: list[object] = []
        for _ in range(rng.randint(1, 12)):
            kind = rng.choice(["h", "t", "f", "c", "d"])
            s = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 2500)))
            if kind == "h":
                blocks.append(Header(s[:300]))
            elif kind == "t":
                blocks.append(Text(s))
            elif kind == "f":
                blocks.append(Fields(tuple((s[:300], s) for _ in range(rng.randint(1, 30)))))
            elif kind == "c":
                blocks.append(Context(s))
            else:
                blocks.append(Divider())
        check_limits(render_reply(Reply(blocks=tuple(blocks), long_form=rng.random() < 0.5)))  # type: ignore[arg-type]


def test_a_papers_bold_title_link_stays_bold() -> None:
    title = bold(link("A title", "https://arxiv.org/abs/2401.00001"))
    assert render_markup(title) == "**[A title](https://arxiv.org/abs/2401.00001)**"
    assert (
        render_markup(link("plain", "https://arxiv.org/abs/1"))
        == "[plain](https://arxiv.org/abs/1)"
    )


def test_a_channel_the_core_names_is_linked_and_typed_text_is_not() -> None:
    from bot.chat.markup import channel

    assert render_markup(f"to {channel('345626669114982999')}.") == "to <#345626669114982999>."
    assert "<#" not in render_markup(channel("general"))
    assert "<#345626669114982999>" not in render_markup(esc("<#345626669114982999>"))
