"""Rendering replies to Block Kit: escaping of untrusted text, mrkdwn for the
neutral markup, and Slack's limits (40 KB digests split into valid messages)."""

from __future__ import annotations

import html
import json
import re

from hypothesis import given
from hypothesis import strategies as st

from adapters.slack.render import (
    BLOCKS_MAX,
    LOOKALIKES,
    SECTION_MAX,
    kind_of,
    mrkdwn,
    render,
    render_modal,
)
from bot.chat.markup import bold, esc, link, mention
from bot.chat.replies import (
    Block,
    Button,
    Buttons,
    Context,
    Divider,
    Fields,
    Form,
    FormField,
    Header,
    Reply,
    Text,
)
from bot.chat.sanitize import strip_invisible, unlink
from tests.adapters import long_digest

HOSTILE = "<!channel> <!here> <!everyone> <@U0123> <https://evil.example|click> & *x*"


def test_untrusted_text_cannot_ping_or_link() -> None:
    out = mrkdwn(esc(HOSTILE))
    assert "<" not in out and ">" not in out
    assert out.startswith("&lt;!channel&gt; &lt;!here&gt; &lt;!everyone&gt; &lt;@U0123&gt;")
    assert "&amp;" in out


def _as_typed(text: str) -> str:
    """Undo the look-alikes literal() uses, to compare with the input."""
    for mark, look in {**LOOKALIKES, ">": "›"}.items():
        text = text.replace(look, mark)
    return text


@given(st.text())
def test_escaped_text_round_trips_and_never_has_control_syntax(text: str) -> None:
    out = mrkdwn(esc(text))
    assert "<" not in out and ">" not in out and "`" not in out
    for m in re.finditer(r"[*_~]", out):  # only marks inside a word survive
        before, after = out[m.start() - 1 : m.start()], out[m.end() : m.end() + 1]
        assert before.isascii() and before.isalnum() and after.isascii() and after.isalnum()
    assert _as_typed(html.unescape(out)) == _as_typed(unlink(strip_invisible(text)))


def test_markup_becomes_slack_mrkdwn() -> None:
    markup = (
        f"{bold('Title')} _soft_ `code` {link('a <b> | c', 'https://arxiv.org/abs/1')} "
        f"{mention('U42')}"
    )
    assert mrkdwn(markup) == (
        "*Title* _soft_ `code` <https://arxiv.org/abs/1|a &lt;b&gt; | c> <@U42>"
    )


def test_every_message_has_an_escaped_text_fallback() -> None:
    (message,) = render(Reply(blocks=(Text(esc(HOSTILE)),)))
    assert message["text"].strip()
    assert "<!" not in message["text"] and "<@" not in message["text"]
    (empty,) = render(Reply(blocks=(Divider(),)))
    assert empty["text"].strip()


def test_block_kinds_and_their_limits() -> None:
    buttons = (
        *tuple(Button("▲ " + "x" * 100, "upvote", "7", "primary") for _ in range(2)),
        Button("Withdraw", "withdraw", "v" * 2500, "danger"),
    )
    reply = Reply(
        blocks=(
            Header("H" * 200),
            Fields((("Presenter", bold("Ada")), ("When", "Tue"))),
            Context("proposed by " + esc("<@U1>")),
            Divider(),
            Buttons(buttons),
        )
    )
    (message,) = render(reply)
    header, fields, context, divider, actions = message["blocks"]
    assert header["text"]["type"] == "plain_text" and len(header["text"]["text"]) <= 150
    assert fields["fields"][0]["text"] == "*Presenter*\n*Ada*"
    assert context["elements"][0]["text"] == "proposed by &lt;@U1&gt;"
    assert divider == {"type": "divider"}
    elements = actions["elements"]
    assert all(len(e["text"]["text"]) <= 75 and len(e["value"]) <= 2000 for e in elements)
    ids = [e["action_id"] for e in elements]
    assert len(set(ids)) == len(ids)  # unique per block, even for twin buttons
    assert [kind_of(e["action_id"], e["value"]) for e in elements] == [
        "upvote",
        "upvote",
        "withdraw",
    ]
    assert elements[0]["style"] == "primary" and elements[2]["style"] == "danger"


def _long_digest() -> Reply:
    """A 40 KB "This Week in ML" post of our own text (tests/adapters/long_digest.py)."""
    paragraphs = [esc(para) for para in long_digest.paragraphs()]
    body: list[str] = []
    size = 0
    for i, para in enumerate(paragraphs):
        if size > 40_000:
            break
        if i % 7 == 0:
            para = f"{bold(link('Paper ' + str(i), f'https://arxiv.org/abs/2401.{i:05d}'))} {para}"
        body.append(para)
        size += len(para)
    return Reply(
        blocks=(Header("This Week in ML: a 40 KB digest"), Text("\n\n".join(body))),
        long_form=True,
        fallback_text="This Week in ML",
    )


def test_a_40_kb_digest_is_split_into_valid_messages_losing_nothing() -> None:
    reply = _long_digest()
    (_header, body) = reply.blocks
    assert isinstance(body, Text) and len(body.markup) >= 40_000
    messages = render(reply)
    assert len(messages) > 1
    for m in messages:
        assert len(m["blocks"]) <= BLOCKS_MAX
        assert m["text"].strip() and len(m["text"]) <= 3000
        for b in m["blocks"]:
            if b["type"] == "section":
                assert 0 < len(b["text"]["text"]) <= SECTION_MAX
        assert len(json.dumps(m["blocks"])) < 40_000
    assert messages[0]["blocks"][0]["type"] == "header"
    sent = " ".join(
        b["text"]["text"] for m in messages for b in m["blocks"] if b["type"] == "section"
    )
    assert " ".join(sent.split()) == " ".join(mrkdwn(body.markup).split())
    # Links are never cut in half by a split.
    assert sent.count("<https://arxiv.org/abs/2401.") == body.markup.count("](https://arxiv")


def test_one_huge_paragraph_is_still_split_within_limits() -> None:
    messages = render(Reply(blocks=(Text("word " * 20_000),), long_form=True))
    sections = [b for m in messages for b in m["blocks"]]
    assert all(len(b["text"]["text"]) <= SECTION_MAX for b in sections)
    assert sum(len(b["text"]["text"].split()) for b in sections) == 20_000


def test_more_than_50_blocks_become_several_messages() -> None:
    rows: list[Block] = []
    for i in range(40):
        rows += [Text(f"{i}. paper"), Buttons((Button("▲", "upvote_queue", str(i)),))]
    messages = render(Reply(blocks=tuple(rows)))
    assert len(messages) == 2
    assert all(len(m["blocks"]) <= BLOCKS_MAX for m in messages)


def test_a_form_becomes_a_modal_within_limits() -> None:
    form = Form(
        title="Edit this week's post draft",
        action="digest_save",
        value="12",
        fields=(FormField("body", "Post", initial="x" * 5000, multiline=True, max_length=4000),),
    )
    view = render_modal(form, metadata={"value": "12", "channel": "C1"})
    assert view["type"] == "modal" and view["callback_id"] == "digest_save"
    assert len(view["title"]["text"]) <= 24
    element = view["blocks"][0]["element"]
    assert element["max_length"] == 3000 and len(element["initial_value"]) == 3000
    assert json.loads(view["private_metadata"]) == {"value": "12", "channel": "C1"}


def test_a_papers_bold_title_link_stays_bold() -> None:
    title = bold(link("A *title*", "https://arxiv.org/abs/2401.00001"))
    assert mrkdwn(title) == "*<https://arxiv.org/abs/2401.00001|A ∗title∗>*"
    assert mrkdwn(link("plain", "https://arxiv.org/abs/1")) == "<https://arxiv.org/abs/1|plain>"


def test_a_channel_the_core_names_is_linked_and_typed_text_is_not() -> None:
    from bot.chat.markup import channel

    assert mrkdwn(f"Published to {channel('C0123ABC')}.") == "Published to <#C0123ABC>."
    assert "<#" not in mrkdwn(channel("general"))  # not a Slack id: plain text
    assert "<#C0123ABC>" not in mrkdwn(esc("<#C0123ABC>"))  # someone's text stays inert
