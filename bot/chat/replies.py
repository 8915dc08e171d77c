"""Platform-neutral replies: a message made of a few block kinds.

Text in blocks is neutral markup (see :mod:`bot.chat.markup`); adapters render it
and split it to their platform's limits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.chat.markup import plain


@dataclass(frozen=True)
class Header:
    text: str  # plain text, never markup


@dataclass(frozen=True)
class Text:
    markup: str


@dataclass(frozen=True)
class Fields:
    pairs: tuple[tuple[str, str], ...]  # (plain label, markup value)


@dataclass(frozen=True)
class Context:
    markup: str  # small print under a card


@dataclass(frozen=True)
class Button:
    label: str
    action: str  # the Action.kind it produces
    value: str  # the entity id it carries
    style: str = "default"  # default | primary | danger


@dataclass(frozen=True)
class Buttons:
    buttons: tuple[Button, ...]


@dataclass(frozen=True)
class Divider:
    pass


Block = Header | Text | Fields | Context | Buttons | Divider


@dataclass(frozen=True)
class Attachment:
    """A file that goes with a reply (a calendar export). Each adapter sends it
    its own way: an uploaded file on Slack, a message attachment on Discord, a
    file written to disk by the console."""

    name: str  # a plain file name, e.g. "readgroup-schedule.ics"
    content: bytes
    mime: str = "application/octet-stream"


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    initial: str = ""
    multiline: bool = False
    max_length: int = 3000


@dataclass(frozen=True)
class Form:
    """A modal form (Slack ``views.open``, Discord modal, console editor).
    Submitting it produces ``Action(kind=action, value=value, fields=...)``."""

    title: str
    action: str
    value: str
    fields: tuple[FormField, ...]
    submit_label: str = "Save"


@dataclass(frozen=True)
class Reply:
    """What the core answers.

    ``private``: only the actor sees it (ephemeral). ``replace``: update the
    message the action came from instead of posting anew. ``in_thread``: post
    in the thread of the triggering message. ``long_form``: a post (digest)
    that adapters split at paragraph boundaries rather than truncate.
    """

    blocks: tuple[Block, ...]
    private: bool = False
    replace: bool = False
    in_thread: bool = False
    long_form: bool = False
    #: Optional tag adapters may use to find a message later (e.g. "card:12").
    tag: str = ""
    #: Open this form instead of posting (only as the answer to a button press).
    form: Form | None = None
    fallback_text: str = field(default="")
    #: Files that go with the message (its blocks say what they are).
    files: tuple[Attachment, ...] = ()

    @property
    def fallback(self) -> str:
        """Plain text for notifications and clients without blocks."""
        if self.fallback_text:
            return self.fallback_text
        return to_plain(self, limit=300)


def to_plain(reply: Reply, *, limit: int | None = None) -> str:
    """Render a reply as readable plain text (console, fallbacks)."""
    lines: list[str] = []
    for block in reply.blocks:
        match block:
            case Header(text=t):
                lines.append(t)
                lines.append("=" * min(len(t), 60))
            case Text(markup=m):
                lines.append(plain(m))
            case Fields(pairs=pairs):
                lines.extend(f"{label}: {plain(value)}" for label, value in pairs)
            case Context(markup=m):
                lines.append(plain(m))
            case Buttons(buttons=bs):
                lines.append("  ".join(f"[{b.label}]" for b in bs))
            case Divider():
                lines.append("-" * 20)
    text = "\n".join(lines).strip()
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def say(markup: str, *, private: bool = False) -> Reply:
    """A one-paragraph reply."""
    return Reply(blocks=(Text(markup),), private=private)


def error(markup: str) -> Reply:
    """A private reply for bad input: what was wrong and what to do."""
    return Reply(blocks=(Text(markup),), private=True)
