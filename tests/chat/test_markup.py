"""The neutral markup: untrusted text stays literal, links and mentions only
where the core put them."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.chat.markup import Span, bold, esc, link, mention, parse, plain
from bot.chat.sanitize import strip_invisible


def test_forms_parse_to_spans() -> None:
    spans = parse(
        f"{bold('Hi')} _there_ `x` {link('paper', 'https://arxiv.org/abs/1')} {mention('U1')}"
    )
    kinds = [s.kind for s in spans if s.text.strip()]
    assert kinds == ["bold", "italic", "code", "link", "mention"]
    assert Span("link", "paper", "https://arxiv.org/abs/1") in spans


def test_escaped_text_never_becomes_a_link_or_mention() -> None:
    evil = "[click](https://evil.example) <@U123> **loud** @everyone <!channel>"
    spans = parse(esc(evil))
    assert all(s.kind == "text" for s in spans)
    assert "".join(s.text for s in spans) == evil


def test_link_label_is_escaped_and_url_kept() -> None:
    [span] = parse(link("a [b](c) _d_", "https://arxiv.org/abs/2401.01234"))
    assert span == Span("link", "a [b](c) _d_", "https://arxiv.org/abs/2401.01234")


def test_non_http_urls_are_not_links() -> None:
    assert all(s.kind != "link" for s in parse("[x](javascript:alert(1))"))


def test_plain_shows_link_targets() -> None:
    assert plain(link("paper", "https://arxiv.org/abs/1")) == "paper (https://arxiv.org/abs/1)"


@given(st.text())
def test_any_escaped_text_round_trips_as_plain_text(text: str) -> None:
    spans = parse(esc(text))
    assert all(s.kind == "text" for s in spans)
    assert "".join(s.text for s in spans) == strip_invisible(text)


@given(st.text())
def test_parse_never_fails(text: str) -> None:
    parse(text)


def test_links_inside_bold_stay_links() -> None:
    spans = parse(bold(f"see {link('paper', 'https://arxiv.org/abs/1')}"))
    assert spans == [
        Span("bold", "see "),
        Span("link", "paper", "https://arxiv.org/abs/1", strong=True),
    ]


def test_a_channel_the_core_names_is_a_channel_span_and_typed_text_stays_literal() -> None:
    from bot.chat.markup import channel

    assert parse(f"to {channel('C0123')}.") == [
        Span("text", "to "),
        Span("channel", "C0123"),
        Span("text", "."),
    ]
    assert plain(f"to {channel('general')}") == "to #general"
    typed = esc("<#C0123> is where")  # someone's text: no channel reference
    assert [s.kind for s in parse(typed)] == ["text"] and plain(typed) == "<#C0123> is where"
    assert plain(channel("not a channel!")) == "#not a channel!"
