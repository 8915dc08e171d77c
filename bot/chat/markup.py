"""The neutral markup used in reply text.

Replies are written in a tiny markup that every adapter renders to its own
dialect. Only these forms are special:

* ``**bold**``, ``_italic_``, ```code```
* ``[label](https://url)`` — a link
* ``<@USERID>`` — a mention of a platform user (only ids the core put there)
* ``<#CHANNELID>`` — a reference to a channel (shown as a link to it where the
  platform has one, ``#name`` in the terminal; it pings nobody)
* ``\\`` escapes the next character

Untrusted text (titles, abstracts, thread messages, LLM output) goes through
:func:`esc` before it is placed in markup, so it can never produce a link, a
mention or formatting. Adapters parse markup with :func:`parse` into spans and
escape each plain span for their platform, so ``@everyone`` or ``<!channel>`` in
a span stays inert.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.chat.sanitize import strip_invisible

_SPECIAL = set("\\*_[]()`<>")


@dataclass(frozen=True)
class Span:
    """A run of text with one style. ``kind`` is one of: text, bold, italic,
    code, link, mention, channel."""

    kind: str
    text: str
    url: str = ""
    #: A link inside bold (a paper's heading): adapters show it bold, the
    #: Markdown export as a heading when it opens a paragraph.
    strong: bool = False


def esc(text: object) -> str:
    """Make untrusted text literal inside markup, without invisible or
    direction-changing characters (see :func:`bot.chat.sanitize.strip_invisible`)."""
    return "".join("\\" + c if c in _SPECIAL else c for c in strip_invisible(str(text)))


def bold(text: str) -> str:
    """Bold some already-escaped markup."""
    return f"**{text}**" if text else ""


def link(label: str, url: str) -> str:
    """A link whose label is untrusted text and whose url the core chose."""
    safe_url = url.replace(")", "%29").replace(" ", "%20")
    return f"[{esc(label)}]({safe_url})"


def mention(user_id: str) -> str:
    return f"<@{user_id}>" if _MENTION_ID.fullmatch(user_id) else esc(user_id)


def channel(channel_id: str) -> str:
    """A channel the core names (a place's channel: an id on Slack and
    Discord, a name in the console), shown as the platform shows channels."""
    return f"<#{channel_id}>" if _MENTION_ID.fullmatch(channel_id) else esc(f"#{channel_id}")


_MENTION_ID = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
_URL = re.compile(r"https?://[^\s()<>]+")


def _unescape(s: str) -> str:
    return re.sub(r"\\(.)", r"\1", s, flags=re.S)


def parse(markup: str) -> list[Span]:
    """Split markup into spans. Unbalanced markers are kept as literal text."""
    spans: list[Span] = []
    buf: list[str] = []
    i, n = 0, len(markup)

    def flush() -> None:
        if buf:
            spans.append(Span("text", "".join(buf)))
            buf.clear()

    def scan_to(closer: str, start: int) -> int:
        """Index of the unescaped ``closer`` at or after start, or -1."""
        j = start
        while j < n:
            if markup[j] == "\\":
                j += 2
                continue
            if markup.startswith(closer, j):
                return j
            j += 1
        return -1

    while i < n:
        c = markup[i]
        if c == "\\" and i + 1 < n:
            buf.append(markup[i + 1])
            i += 2
            continue
        if markup.startswith("**", i):
            end = scan_to("**", i + 2)
            if end > i + 2:
                flush()
                spans.extend(_styled("bold", markup[i + 2 : end]))
                i = end + 2
                continue
        elif c == "_":
            end = scan_to("_", i + 1)
            if end > i + 1:
                flush()
                spans.extend(_styled("italic", markup[i + 1 : end]))
                i = end + 1
                continue
        elif c == "`":
            end = scan_to("`", i + 1)
            if end > i + 1:
                flush()
                spans.append(Span("code", _unescape(markup[i + 1 : end])))
                i = end + 1
                continue
        elif c == "[":
            close = scan_to("]", i + 1)
            if close > i and markup.startswith("(", close + 1):
                url_end = markup.find(")", close + 2)
                url = markup[close + 2 : url_end] if url_end > 0 else ""
                if url_end > 0 and _URL.fullmatch(url):
                    flush()
                    spans.append(Span("link", _unescape(markup[i + 1 : close]), url))
                    i = url_end + 1
                    continue
        elif c == "<" and (markup.startswith("<@", i) or markup.startswith("<#", i)):
            end = markup.find(">", i)
            if end > 0 and _MENTION_ID.fullmatch(markup[i + 2 : end]):
                flush()
                kind = "mention" if markup[i + 1] == "@" else "channel"
                spans.append(Span(kind, markup[i + 2 : end]))
                i = end + 1
                continue
        buf.append(c)
        i += 1
    flush()
    return spans


def _styled(style: str, inner: str) -> list[Span]:
    """Bold or italic text may hold links, mentions or code: those keep their
    own kind (a link stays a link, strong inside bold); the plain parts take
    the style."""
    out = []
    for s in parse(inner):
        if s.kind == "text":
            s = Span(style, s.text)
        elif s.kind == "link" and style == "bold":
            s = Span("link", s.text, s.url, strong=True)
        out.append(s)
    return out


def plain(markup: str) -> str:
    """Markup as plain text (console, fallbacks, search): links as ``label (url)``."""
    out: list[str] = []
    for s in parse(markup):
        if s.kind == "link":
            out.append(s.text if s.text == s.url else f"{s.text} ({s.url})")
        elif s.kind == "mention":
            out.append(f"@{s.text}")
        elif s.kind == "channel":
            out.append(f"#{s.text}")
        else:
            out.append(s.text)
    return "".join(out)
