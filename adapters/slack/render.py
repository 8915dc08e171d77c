"""Replies as Slack Block Kit messages.

Pure functions (no client, no network): a :class:`~bot.chat.replies.Reply` becomes a
list of message dicts (``{"text": ..., "blocks": [...]}``) that each fit
Slack's limits, so the sender never truncates anything important. Plain spans
of the neutral markup are escaped (``&``, ``<``, ``>``), which makes
``<!channel>``, ``<!here>``, ``<@U…>`` and ``<url|label>`` in untrusted text
inert, and their formatting marks and bare URLs are neutralised
(:func:`literal`); only spans the core marked as links, mentions or styles
become Slack syntax.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from bot.chat.markup import Span, parse
from bot.chat.replies import Block, Buttons, Context, Divider, Fields, Form, Header, Reply, Text
from bot.chat.sanitize import strip_invisible, unlink

# Slack's Block Kit limits (api.slack.com/reference/block-kit).
SECTION_MAX = 3000
BLOCKS_MAX = 50
HEADER_MAX = 150
BUTTON_TEXT_MAX = 75
BUTTON_VALUE_MAX = 2000
ACTION_ID_MAX = 255
BUTTONS_PER_BLOCK = 25
FIELDS_PER_SECTION = 10
FIELD_MAX = 2000
CONTEXT_MAX = 2000
FALLBACK_MAX = 3000
MODAL_TITLE_MAX = 24
MODAL_SUBMIT_MAX = 24
INPUT_LABEL_MAX = 2000
PRIVATE_METADATA_MAX = 3000
#: Characters of block text per message. Slack refuses very long messages
#: (``msg_too_long``) and clients collapse them; a 40 KB digest reads better
#: as a few posts of this size.
MESSAGE_CHARS_MAX = 12_000

Message = dict[str, Any]


# ------------------------------------------------------------------ mrkdwn
def escape(text: str) -> str:
    """Slack's three control characters, the only ones it decodes as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


#: Look-alikes for Slack's formatting marks (asterisk operator, fullwidth low
#: line, tilde operator, modifier grave accent).
LOOKALIKES = {"*": "∗", "_": "＿", "~": "∼", "`": "ˋ"}
_MARK = re.compile(r"[*_~`]")
_QUOTE = re.compile(r"(^|\n)([ \t]*)>", re.M)
#: A Slack channel id (C…, G… or D…), the only thing rendered as ``<#…>``.
_SLACK_CHANNEL = re.compile(r"[CGD][A-Z0-9]{1,20}")


def _word(c: str) -> bool:
    return c.isascii() and c.isalnum()


def literal(text: str) -> str:
    """Plain text that Slack shows as written: no bold, italics, strike, code,
    quote or link comes out of it.

    Slack mrkdwn has no escape character, decodes only ``&amp;``, ``&lt;``
    and ``&gt;``, and the zero-width characters one could wedge between marks
    are exactly what :func:`bot.chat.sanitize.strip_invisible` removes from
    untrusted text (and they would survive copy and paste). So a mark that
    could open or close formatting (``*``, ``_``, ``~`` next to a space,
    punctuation, a non-ASCII letter or the end) is replaced by a look-alike
    (:data:`LOOKALIKES`); Slack formats only at word boundaries, so a mark
    between two ASCII letters or digits (``snake_case``, ``x_t``, ``a*b``)
    can do nothing and is kept as typed. Backticks are always replaced. A
    ``>`` opening a line (a quote) becomes ``›``. Bare URLs lose their scheme
    (:func:`bot.chat.sanitize.unlink`) and the text objects are sent with
    ``verbatim: true``, so Slack does not auto-link them or bare domains.
    """
    text = unlink(text)

    def swap(m: re.Match[str]) -> str:
        mark, i = m.group(0), m.start()
        before = text[i - 1] if i > 0 else " "
        after = text[i + 1] if i + 1 < len(text) else " "
        if mark != "`" and _word(before) and _word(after):
            return mark
        return LOOKALIKES[mark]

    text = _QUOTE.sub(lambda m: f"{m.group(1)}{m.group(2)}›", _MARK.sub(swap, text))
    return escape(text)


def _safe_url(url: str) -> str:
    return url.replace("|", "%7C").replace(">", "%3E").replace("<", "%3C").replace(" ", "%20")


def _span(span: Span) -> str:
    match span.kind:
        case "bold":
            inner = literal(span.text).replace("*", "∗")
            return f"*{inner}*" if span.text.strip() else inner
        case "italic":
            inner = literal(span.text).replace("_", "＿")
            return f"_{inner}_" if span.text.strip() else inner
        case "code":
            return f"`{escape(span.text).replace('`', 'ˋ')}`"
        case "link":
            label = literal(span.text)
            url = _safe_url(span.url)
            shown = f"<{url}>" if span.text == span.url else f"<{url}|{label}>"
            return f"*{shown}*" if span.strong else shown
        case "mention":
            return f"<@{span.text}>"
        case "channel":  # Slack links a channel id; anything else stays text
            if _SLACK_CHANNEL.fullmatch(span.text):
                return f"<#{span.text}>"
            return literal("#" + span.text)
        case _:
            return literal(span.text)


def mrkdwn(markup: str) -> str:
    """Neutral markup as Slack mrkdwn."""
    return "".join(_span(s) for s in parse(markup))


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# ------------------------------------------------------------------ splitting
def _hard_split(text: str, limit: int) -> Iterator[str]:
    """Last resort for one paragraph longer than a section: break at lines,
    then at spaces, then anywhere."""
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        if cut <= 0:
            cut = text.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        yield text[:cut].rstrip()
        text = text[cut:].lstrip()
    if text:
        yield text


def _paragraph_chunks(markup: str, limit: int = SECTION_MAX) -> list[str]:
    """Rendered mrkdwn packed into pieces of at most ``limit`` characters,
    breaking only between paragraphs where possible. Paragraphs are split in
    the markup (before rendering) so no link or bold span is cut in half."""
    pieces: list[str] = []
    current = ""
    for para in re.split(r"\n\s*\n", markup):
        rendered = mrkdwn(para).strip()
        if not rendered:
            continue
        for part in _hard_split(rendered, limit) if len(rendered) > limit else [rendered]:
            if current and len(current) + 2 + len(part) <= limit:
                current = f"{current}\n\n{part}"
            else:
                if current:
                    pieces.append(current)
                current = part
    if current:
        pieces.append(current)
    return pieces


# ------------------------------------------------------------------ blocks
def action_id(kind: str, value: str) -> str:
    """``kind:value``: unique per block for distinct buttons, and the kind is
    recoverable even when a value has colons (see :func:`kind_of`)."""
    return _cut(f"{kind}:{value}", ACTION_ID_MAX)


def kind_of(action_id_: str, value: str) -> str:
    """The action kind a rendered button carries."""
    suffix = f":{value}"
    if action_id_.endswith(suffix):
        return action_id_[: -len(suffix)]
    return action_id_.split(":", 1)[0]


def _mrkdwn(text: str) -> dict[str, Any]:
    """A mrkdwn text object; ``verbatim`` stops Slack auto-linking bare URLs,
    domains and channel names in it (our links are explicit ``<url|label>``)."""
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": _mrkdwn(text)}


def render_block(block: Block) -> list[dict[str, Any]]:
    """One neutral block as one or more Block Kit blocks."""
    match block:
        case Header(text=t):
            text = _cut(" ".join(strip_invisible(t).split()), HEADER_MAX) or " "
            return [{"type": "header", "text": {"type": "plain_text", "text": text}}]
        case Text(markup=m):
            return [_section(piece) for piece in _paragraph_chunks(m)]
        case Fields(pairs=pairs):
            out: list[dict[str, Any]] = []
            fields = [
                _mrkdwn(_cut(f"*{literal(label).replace('*', '∗')}*\n{mrkdwn(value)}", FIELD_MAX))
                for label, value in pairs
            ]
            for i in range(0, len(fields), FIELDS_PER_SECTION):
                out.append({"type": "section", "fields": fields[i : i + FIELDS_PER_SECTION]})
            return out
        case Context(markup=m):
            text = _cut(mrkdwn(m), CONTEXT_MAX)
            return [{"type": "context", "elements": [_mrkdwn(text or " ")]}]
        case Buttons(buttons=buttons):
            out = []
            for i in range(0, len(buttons), BUTTONS_PER_BLOCK):
                elements = []
                seen: set[str] = set()
                for b in buttons[i : i + BUTTONS_PER_BLOCK]:
                    aid = action_id(b.action, b.value)
                    n = 1
                    while aid in seen:  # the same kind and value twice: keep ids unique
                        n += 1
                        aid = _cut(f"{b.action}:{b.value}", ACTION_ID_MAX - 4) + f"#{n}"
                    seen.add(aid)
                    element: dict[str, Any] = {
                        "type": "button",
                        "text": {
                            "type": "plain_text",
                            "text": _cut(b.label, BUTTON_TEXT_MAX),
                            "emoji": True,
                        },
                        "action_id": aid,
                        "value": b.value[:BUTTON_VALUE_MAX],
                    }
                    if b.style in {"primary", "danger"}:
                        element["style"] = b.style
                    elements.append(element)
                out.append({"type": "actions", "elements": elements})
            return out
        case Divider():
            return [{"type": "divider"}]
    raise TypeError(f"unknown block {block!r}")


def fallback_text(reply: Reply) -> str:
    """The top-level ``text`` (notifications, screen readers). Slack parses it
    for mentions too, so it is escaped like any plain span."""
    return _cut(escape(strip_invisible(reply.fallback)), FALLBACK_MAX) or " "


def render(reply: Reply) -> list[Message]:
    """A reply as one or more messages, each within Slack's limits.

    Every reply is split if it must be (a queue with many buttons as well as a
    40 KB digest); ``long_form`` replies additionally put every message's
    ``text`` from its own content so each part reads on its own.
    """
    blocks: list[dict[str, Any]] = []
    for block in reply.blocks:
        blocks.extend(render_block(block))
    if not blocks:
        return [{"text": fallback_text(reply), "blocks": []}]
    chunks = _pack(blocks)
    messages: list[Message] = []
    for n, chunk in enumerate(chunks):
        if n == 0 or not reply.long_form:
            text = fallback_text(reply)
        else:
            text = _cut(_chunk_plain(chunk), FALLBACK_MAX) or " "
        if len(chunks) > 1:
            text = _cut(f"({n + 1}/{len(chunks)}) {text}", FALLBACK_MAX)
        messages.append({"text": text, "blocks": chunk})
    return messages


def file_comment(reply: Reply) -> str:
    """A reply's text as the mrkdwn comment of an uploaded file."""
    parts = [mrkdwn(b.markup) for b in reply.blocks if isinstance(b, Text | Context)]
    return _cut("\n\n".join(p for p in parts if p) or fallback_text(reply), FALLBACK_MAX)


#: Said on a replacement that had to be shortened to stay one message.
SHORTENED_NOTE = "Shortened to fit this message."


def render_one(reply: Reply) -> Message:
    """A reply as exactly one message, for ``chat.update`` of one message.

    A vote replaces the card it was pressed on: posting the overflow as extra
    messages would make the card grow with every press. What does not fit is
    left out (the buttons always stay) and a note says it was shortened.
    """
    messages = render(reply)
    if len(messages) == 1:
        return messages[0]
    blocks = [b for m in messages for b in m["blocks"]]
    actions = [b for b in blocks if b["type"] == "actions"]
    note = {"type": "context", "elements": [{"type": "mrkdwn", "text": SHORTENED_NOTE}]}
    budget = MESSAGE_CHARS_MAX - sum(_size(b) for b in [*actions, note])
    kept: list[dict[str, Any]] = []
    for block in blocks:
        if block["type"] == "actions":
            continue
        n = _size(block)
        if len(kept) + len(actions) + 2 > BLOCKS_MAX or n > budget:
            break
        kept.append(block)
        budget -= n
    return {"text": fallback_text(reply), "blocks": [*kept, note, *actions]}


def _size(block: dict[str, Any]) -> int:
    return len(json.dumps(block, ensure_ascii=False))


def _pack(blocks: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Blocks into messages of at most 50 blocks and about MESSAGE_CHARS_MAX
    characters; a header stays with what follows it."""
    chunks: list[list[dict[str, Any]]] = [[]]
    size = 0
    for block in blocks:
        n = _size(block)
        current = chunks[-1]
        if current and (len(current) >= BLOCKS_MAX or size + n > MESSAGE_CHARS_MAX):
            carry = [current.pop()] if current[-1]["type"] == "header" and current[:-1] else []
            chunks.append(carry)
            size = sum(_size(b) for b in carry)
        chunks[-1].append(block)
        size += n
    return chunks


def _chunk_plain(blocks: list[dict[str, Any]]) -> str:
    """Readable text of already-rendered blocks (for a later part's fallback)."""
    for b in blocks:
        text = b.get("text")
        if isinstance(text, dict) and text.get("text", "").strip():
            return str(text["text"]).replace("\n", " ")
    return ""


# ------------------------------------------------------------------ modals
def render_modal(form: Form, *, metadata: dict[str, str]) -> dict[str, Any]:
    """A form as a modal view. ``metadata`` (the form's value and where it was
    opened) rides in ``private_metadata`` so the submission can be answered in
    the right place by any process."""
    blocks = []
    for f in form.fields:
        element: dict[str, Any] = {
            "type": "plain_text_input",
            "action_id": f.name,
            "multiline": f.multiline,
            "max_length": max(1, min(f.max_length, 3000)),
        }
        if f.initial:
            element["initial_value"] = f.initial[: element["max_length"]]
        blocks.append(
            {
                "type": "input",
                "block_id": f.name,
                "label": {"type": "plain_text", "text": _cut(f.label, INPUT_LABEL_MAX)},
                "element": element,
            }
        )
    return {
        "type": "modal",
        "callback_id": form.action,
        "title": {"type": "plain_text", "text": _cut(form.title, MODAL_TITLE_MAX)},
        "submit": {"type": "plain_text", "text": _cut(form.submit_label, MODAL_SUBMIT_MAX)},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": json.dumps(metadata)[:PRIVATE_METADATA_MAX],
        "blocks": blocks,
    }
