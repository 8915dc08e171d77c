"""Buttons and modals whose custom_id carries ``rg:<action kind>:<value>``.

This module builds the live ``discord.ui`` objects (and files) a rendered
:class:`~adapters.discord.render.DiscordMessage` is sent with; render.py
stays pure and imports nothing from here.

Buttons are :class:`discord.ui.DynamicItem` s registered in ``setup_hook``: the
library matches any incoming custom_id against the template, so a button on a
message posted weeks ago, by a process that has since restarted, still works.
Modal submissions are handled in ``on_interaction`` by custom_id for the same
reason (a stored Modal object would not survive a restart).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import discord

from adapters.discord.inbound_schema import ModalComponent, ModalData, parse
from adapters.discord.render import (
    BUTTON_LABEL_MAX,
    CUSTOM_ID_RE,
    ButtonSpec,
    DiscordMessage,
    custom_id,
)
from bot.chat.replies import Form

if TYPE_CHECKING:
    from adapters.discord.client import ReadgroupClient

MODAL_TITLE_MAX = 45
INPUT_LABEL_MAX = 45
INPUT_VALUE_MAX = 4000
MODAL_INPUTS_MAX = 5
#: Forget an unanswered modal after Discord's interaction lifetime; a late
#: submission is still handled by custom_id.
MODAL_TIMEOUT_SECONDS = 15 * 60

_STYLES = {
    "default": discord.ButtonStyle.secondary,
    "primary": discord.ButtonStyle.primary,
    "danger": discord.ButtonStyle.danger,
}


def button_style(style: str) -> discord.ButtonStyle:
    return _STYLES.get(style, discord.ButtonStyle.secondary)


class ActionButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=CUSTOM_ID_RE):
    """A button that produces ``Action(kind, value)`` when pressed."""

    def __init__(
        self,
        kind: str,
        value: str,
        *,
        label: str = "\u200b",
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
        row: int | None = None,
    ) -> None:
        super().__init__(
            discord.ui.Button(
                label=label[:BUTTON_LABEL_MAX], style=style, custom_id=custom_id(kind, value)
            ),
            row=row,
        )
        self.kind = kind
        self.value = value

    @classmethod
    def make(cls, spec: ButtonSpec) -> ActionButton:
        return cls(
            spec.kind, spec.value, label=spec.label, style=button_style(spec.style), row=spec.row
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: Any, /
    ) -> ActionButton:
        label = getattr(item, "label", None) or "\u200b"
        style = getattr(item, "style", discord.ButtonStyle.secondary)
        return cls(match["kind"], match["value"], label=label, style=style)

    async def callback(self, interaction: discord.Interaction) -> None:
        client: ReadgroupClient = interaction.client  # type: ignore[assignment]
        await client.handle_action(interaction, self.kind, self.value, ())


def view_for(m: DiscordMessage) -> discord.ui.View | None:
    """A persistent view (no timeout) for the message's buttons; each button is
    a dynamic item whose custom_id carries the action and entity id."""
    if not m.buttons:
        return None
    view = discord.ui.View(timeout=None)
    for spec in m.buttons:
        view.add_item(ActionButton.make(spec))
    return view


def files_for(m: DiscordMessage) -> list[discord.File]:
    """Fresh ``discord.File`` objects (discord.py consumes them on send)."""
    return [discord.File(io.BytesIO(f.content), filename=f.name) for f in m.files]


class FormModal(discord.ui.Modal):
    """A modal built from a core :class:`~bot.chat.replies.Form`. Its submission is
    handled by custom_id in ``ReadgroupClient.on_interaction``; ``on_submit``
    does nothing so the two paths never both answer."""

    def __init__(self, form: Form) -> None:
        super().__init__(
            title=form.title[:MODAL_TITLE_MAX] or "Edit",
            custom_id=custom_id(form.action, form.value),
            timeout=MODAL_TIMEOUT_SECONDS,
        )
        for f in form.fields[:MODAL_INPUTS_MAX]:
            self.add_item(
                discord.ui.TextInput(
                    label=f.label[:INPUT_LABEL_MAX] or f.name,
                    custom_id=f.name,
                    default=f.initial[:INPUT_VALUE_MAX] or None,
                    style=discord.TextStyle.paragraph if f.multiline else discord.TextStyle.short,
                    max_length=min(f.max_length, INPUT_VALUE_MAX),
                    required=False,
                )
            )

    async def on_submit(self, interaction: discord.Interaction, /) -> None:
        return None


def modal_data(data: Any) -> ModalData | None:
    """A MODAL_SUBMIT payload's data, checked; None (logged) if malformed."""
    return parse(ModalData, data or {}, what="form submission")


def modal_fields(data: ModalData | Any) -> tuple[tuple[str, str], ...]:
    """(custom_id, value) of every text input in a MODAL_SUBMIT payload
    (a malformed one has none)."""
    checked = data if isinstance(data, ModalData) else modal_data(data)
    if checked is None:
        return ()
    out: list[tuple[str, str]] = []

    def walk(components: list[ModalComponent]) -> None:
        for c in components:
            if c.type == 4 and c.custom_id is not None:
                out.append((c.custom_id, c.value or ""))
            walk(c.components)
            if c.component is not None:
                walk([c.component])

    walk(checked.components)
    return tuple(out)
