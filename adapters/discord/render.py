"""Replies as Discord messages: content, embeds and button specs.

Pure functions (no network, no client, no ``discord.ui``): a
:class:`~bot.chat.replies.Reply` becomes a list of :class:`DiscordMessage`
(content, embeds, button specs, attachments) that each fit Discord's limits,
so the sender never has to truncate; :mod:`adapters.discord.components` turns
the specs into live views and files when a message is sent. Plain text is
escaped for Discord markdown and every mention-like sequence in it is broken
with a zero-width space; on top of that each message carries
``allowed_mentions`` that permits only the user ids the core mentioned on
purpose (``<@id>`` spans), so untrusted text can never ping.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import discord
from discord.utils import escape_markdown

from bot.chat.markup import Span, parse
from bot.chat.replies import (
    Attachment,
    Block,
    Button,
    Buttons,
    Context,
    Divider,
    Fields,
    Header,
    Reply,
    Text,
)
from bot.chat.sanitize import strip_invisible, unlink

# Discord's limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits).
CONTENT_MAX = 2000
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FIELDS_MAX = 25
EMBED_TOTAL_MAX = 6000
EMBEDS_PER_MESSAGE = 10
BUTTONS_PER_ROW = 5
ROWS_MAX = 5
BUTTON_LABEL_MAX = 80
CUSTOM_ID_MAX = 100

#: Prefix of every component/modal custom_id the bot owns: ``rg:<kind>:<value>``.
CUSTOM_ID_PREFIX = "rg"
CUSTOM_ID_RE = re.compile(r"rg:(?P<kind>[A-Za-z0-9_\-]+):(?P<value>.*)", re.S)

ZWSP = "\u200b"
_SNOWFLAKE = re.compile(r"[0-9]{15,21}")
_NEUTRALISE = (
    ("@everyone", f"@{ZWSP}everyone"),
    ("@here", f"@{ZWSP}here"),
    ("<@", f"<{ZWSP}@"),
    ("<#", f"<{ZWSP}#"),
    ("</", f"<{ZWSP}/"),  # slash-command mentions </name:id>
)


# ---------------------------------------------------------------- custom ids
def custom_id(kind: str, value: str) -> str:
    """The custom_id for a button or form: the action kind and the entity id it
    carries, so a press can be handled by any process, even after a restart."""
    cid = f"{CUSTOM_ID_PREFIX}:{kind}:{value}"
    if len(cid) > CUSTOM_ID_MAX or not CUSTOM_ID_RE.fullmatch(cid):
        raise ValueError(f"custom_id {cid!r} is not valid on Discord (at most 100 characters)")
    return cid


def parse_custom_id(cid: str) -> tuple[str, str] | None:
    """(kind, value) of one of our custom_ids, or None for anything else."""
    m = CUSTOM_ID_RE.fullmatch(cid)
    return (m["kind"], m["value"]) if m else None


# ---------------------------------------------------------------- markup
def neutralise(text: str) -> str:
    """Break every sequence Discord would turn into a ping or channel link."""
    for needle, safe in _NEUTRALISE:
        text = text.replace(needle, safe)
    return text


def escape_plain(text: str) -> str:
    """Untrusted text made literal: bare URLs shown without their scheme, so
    Discord does not make them links (:func:`bot.chat.sanitize.unlink`; the
    core's own links are link spans), markdown backslash-escaped (``*``,
    ``_``, ``~``, ``|``, backticks, and quotes, headings, lists and masked
    links at line start), mentions neutralised."""
    return neutralise(escape_markdown(unlink(strip_invisible(text))))


def _code(text: str) -> str:
    text = neutralise(text)
    if "`" not in text:
        return f"`{text}`"
    return f"`` {text.replace('``', '`' + ZWSP + '`')} ``"


def render_span(span: Span) -> str:
    match span.kind:
        case "bold":
            return f"**{escape_plain(span.text)}**"
        case "italic":
            return f"*{escape_plain(span.text)}*"
        case "code":
            return _code(span.text)
        case "link":
            label = escape_plain(span.text).replace("]", "\\]").replace("[", "\\[")
            return f"**[{label}]({span.url})**" if span.strong else f"[{label}]({span.url})"
        case "mention":
            if _SNOWFLAKE.fullmatch(span.text):
                return f"<@{span.text}>"
            return escape_plain("@" + span.text)
        case "channel":  # a channel mention links the channel and pings nobody
            if _SNOWFLAKE.fullmatch(span.text):
                return f"<#{span.text}>"
            return escape_plain("#" + span.text)
        case _:
            return escape_plain(span.text)


def render_spans(spans: Iterable[Span]) -> str:
    return "".join(render_span(s) for s in spans)


def render_markup(markup: str) -> str:
    """Neutral markup as Discord markdown."""
    return render_spans(parse(markup))


def mentioned_ids(markup: str) -> list[str]:
    """User ids the core mentions on purpose (the only ones allowed to ping)."""
    return [s.text for s in parse(markup) if s.kind == "mention" and _SNOWFLAKE.fullmatch(s.text)]


def paragraphs(markup: str) -> list[str]:
    """Rendered paragraphs of some markup. Spans are split at blank lines
    before rendering, so a bold run crossing a paragraph break stays bold on
    both sides and every piece is valid markdown on its own."""
    out: list[list[Span]] = [[]]
    for span in parse(markup):
        pieces = span.text.split("\n\n") if span.kind in ("text", "bold", "italic") else [span.text]
        for i, piece in enumerate(pieces):
            if i:
                out.append([])
            if piece:
                out[-1].append(Span(span.kind, piece, span.url, span.strong))
    return [r for r in (render_spans(p).strip("\n") for p in out) if r.strip()]


def split_text(text: str, limit: int) -> list[str]:
    """Split rendered text into pieces of at most ``limit``: at blank lines,
    else at line ends, else at spaces, else hard (a single huge word)."""
    if len(text) <= limit:
        return [text]
    for sep in ("\n\n", "\n", " "):
        cut = text.rfind(sep, 0, limit + 1)
        if cut > 0:
            head, tail = text[:cut], text[cut + len(sep) :]
            return [head, *split_text(tail, limit)]
    return [text[:limit], *split_text(text[limit:], limit)]


# ---------------------------------------------------------------- messages
@dataclass(frozen=True)
class ButtonSpec:
    """One button as Discord shows it: the action kind and value its
    custom_id carries, its label, the core's style name and its row."""

    kind: str
    value: str
    label: str
    style: str
    row: int


def button_specs(buttons: Iterable[Button]) -> tuple[ButtonSpec, ...]:
    """As many of the buttons as a message can carry, five to a row."""
    limit = BUTTONS_PER_ROW * ROWS_MAX
    return tuple(
        ButtonSpec(b.action, b.value, b.label, b.style, row=i // BUTTONS_PER_ROW)
        for i, b in enumerate(list(buttons)[:limit])
    )


@dataclass
class DiscordMessage:
    """One message to send: at most 2,000 characters of content, embeds within
    their limits, and the buttons (sent as a persistent view) on the last message."""

    content: str = ""
    embeds: list[discord.Embed] = field(default_factory=list)
    buttons: tuple[ButtonSpec, ...] = ()
    #: User ids this message may ping (mentions the core wrote on purpose).
    mention_ids: tuple[str, ...] = ()
    #: Files attached to this message (a reply's files go on its first message).
    files: tuple[Attachment, ...] = ()

    @property
    def allowed_mentions(self) -> discord.AllowedMentions:
        if not self.mention_ids:
            return discord.AllowedMentions.none()
        return discord.AllowedMentions(
            everyone=False,
            roles=False,
            replied_user=False,
            users=[discord.Object(int(i)) for i in self.mention_ids],
        )


def embed_size(embed: discord.Embed) -> int:
    """Characters that count towards the 6,000 limit (title, description,
    field names and values, footer, author)."""
    return len(embed)


class _Packer:
    """Fills embeds and messages block by block without crossing a limit."""

    def __init__(self) -> None:
        self.messages: list[DiscordMessage] = [DiscordMessage()]
        self.embed: discord.Embed | None = None

    @property
    def msg(self) -> DiscordMessage:
        return self.messages[-1]

    def _msg_total(self) -> int:
        return sum(embed_size(e) for e in self.msg.embeds)

    def new_embed(self, title: str = "", *, url: str = "", need: int = 0) -> discord.Embed:
        """Start an embed, in a new message when this one could not take
        ``need`` more characters (plus the title)."""
        title = title[:TITLE_MAX]
        if self.msg.embeds and (
            len(self.msg.embeds) >= EMBEDS_PER_MESSAGE
            or self._msg_total() + len(title) + need > EMBED_TOTAL_MAX
        ):
            self.messages.append(DiscordMessage())
        self.embed = discord.Embed(
            title=title or None, url=url or None, colour=discord.Colour.blurple()
        )
        self.msg.embeds.append(self.embed)
        return self.embed

    def continue_elsewhere(self, need: int) -> discord.Embed:
        """A new embed for content that does not fit the current one. A header
        with nothing under it yet moves along, so no title is left alone."""
        embed = self.embed
        if embed is not None and embed.title and not embed.description and not embed.fields:
            self.msg.embeds.remove(embed)
            return self.new_embed(embed.title, url=embed.url or "", need=need)
        return self.new_embed(need=need)

    def room(self) -> int:
        """Characters the current message can still take."""
        return EMBED_TOTAL_MAX - self._msg_total()

    def add_paragraph(self, text: str) -> None:
        for piece in split_text(text, min(DESCRIPTION_MAX, EMBED_TOTAL_MAX - TITLE_MAX)):
            embed = self.embed or self.new_embed(need=len(piece))
            desc = embed.description or ""
            joined = f"{desc}\n\n{piece}" if desc else piece
            if len(joined) > DESCRIPTION_MAX or len(joined) - len(desc) > self.room():
                embed = self.continue_elsewhere(len(piece))
                joined = piece
            embed.description = joined

    def add_field(self, name: str, value: str) -> None:
        name = (name or ZWSP)[:FIELD_NAME_MAX]
        for piece in split_text(value or ZWSP, FIELD_VALUE_MAX):
            need = len(name) + len(piece)
            embed = self.embed or self.new_embed(need=need)
            if len(embed.fields) >= FIELDS_MAX or need > self.room():
                embed = self.continue_elsewhere(need)
            embed.add_field(name=name, value=piece, inline=False)
            name = ZWSP  # a split value continues under an empty name


def _is_plain(reply: Reply) -> bool:
    """Short text-only replies read better as a normal message; a reply that
    opens with a paper link (a card) or has a header or fields is an embed."""
    first = next((b for b in reply.blocks if isinstance(b, Text)), None)
    if first is not None and _title_link(first.markup) is not None:
        return False
    return all(isinstance(b, Text | Context | Buttons) for b in reply.blocks)


def _small(paragraph: str) -> str:
    """Context as Discord's small grey subtext, line by line."""
    return "\n".join(f"-# {line}" for line in paragraph.split("\n") if line.strip())


def _content_lines(blocks: Iterable[Block]) -> Iterator[str]:
    for block in blocks:
        if isinstance(block, Text):
            yield from paragraphs(block.markup)
        elif isinstance(block, Context):
            yield from (_small(p) for p in paragraphs(block.markup))


def render_reply(reply: Reply) -> list[DiscordMessage]:
    """The messages that carry a reply, in order; never empty."""
    buttons = tuple(b for bl in reply.blocks if isinstance(bl, Buttons) for b in bl.buttons)
    ids: list[str] = []
    for block in reply.blocks:
        if isinstance(block, Text | Context):
            ids.extend(i for i in mentioned_ids(block.markup) if i not in ids)

    messages: list[DiscordMessage]
    content = "\n\n".join(_content_lines(reply.blocks))
    if _is_plain(reply) and (len(content) <= CONTENT_MAX or reply.long_form):
        messages = [DiscordMessage(content=c) for c in split_text(content, CONTENT_MAX)]
    else:
        messages = _render_embeds(reply.blocks)
    if not messages or not any(m.content or m.embeds for m in messages):
        messages = [DiscordMessage(content=escape_plain(reply.fallback) or ZWSP)]
    for m in messages:
        # Only content pings; a mention inside an embed never does.
        m.mention_ids = tuple(i for i in ids if f"<@{i}>" in m.content)
    messages[-1].buttons = button_specs(buttons)
    messages[0].files = reply.files
    return messages


#: Said on a replacement that had to be shortened to stay one message.
SHORTENED_NOTE = "-# Shortened to fit this message."


def render_one(reply: Reply) -> DiscordMessage:
    """A reply as exactly one message, for editing the one message a button
    was on: follow-ups would make a card grow with every vote. The first
    message is kept with the buttons (which `render_reply` puts on the last)
    and a note that the rest was left out."""
    messages = render_reply(reply)
    first = messages[0]
    if len(messages) == 1:
        return first
    first.buttons = messages[-1].buttons
    if first.embeds:
        embed = first.embeds[-1]
        desc = embed.description or ""
        total = sum(embed_size(e) for e in first.embeds)
        room = min(DESCRIPTION_MAX - len(desc), EMBED_TOTAL_MAX - total) - 2
        if room >= len(SHORTENED_NOTE):
            embed.description = f"{desc}\n\n{SHORTENED_NOTE}" if desc else SHORTENED_NOTE
    elif len(first.content) + 2 + len(SHORTENED_NOTE) <= CONTENT_MAX:
        first.content = f"{first.content}\n{SHORTENED_NOTE}"
    return first


def _title_link(markup: str) -> tuple[str, str, str] | None:
    """A card opens with a line that is just a link (the paper): that becomes
    the embed's clickable title. Returns (label, url, the rest of the markup)."""
    first, _, rest = markup.partition("\n")
    spans = parse(first)
    if len(spans) == 1 and spans[0].kind == "link":
        return spans[0].text, spans[0].url, rest
    return None


def _render_embeds(blocks: Iterable[Block]) -> list[DiscordMessage]:
    packer = _Packer()
    blocks = list(blocks)
    if blocks and isinstance(blocks[0], Text):
        head = _title_link(blocks[0].markup)
        if head is not None:
            label, url, rest = head
            packer.new_embed(title=escape_plain(label), url=url)
            blocks[0] = Text(rest)
    for block in blocks:
        match block:
            case Header(text=t):
                packer.new_embed(title=strip_invisible(t))
            case Text(markup=m):
                for p in paragraphs(m):
                    packer.add_paragraph(p)
            case Context(markup=m):
                for p in paragraphs(m):
                    packer.add_paragraph(_small(p))
            case Fields(pairs=pairs):
                for label, value in pairs:
                    packer.add_field(escape_plain(label).replace("*", ""), render_markup(value))
            case Divider():
                packer.embed = None  # the next block starts a fresh embed
            case Buttons():
                pass
    return [m for m in packer.messages if m.embeds]
