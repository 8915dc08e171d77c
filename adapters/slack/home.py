"""The App Home tab: the viewer's home (built by the core as neutral blocks,
:func:`bot.app.home_for`) as a ``views.publish`` view."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from adapters.slack.render import render_block
from bot.chat.replies import Block

HOME_BLOCKS_MAX = 100


def home_view(blocks: Iterable[Block]) -> dict[str, Any]:
    """The ``views.publish`` view (at most 100 blocks)."""
    rendered: list[dict[str, Any]] = []
    for block in blocks:
        rendered.extend(render_block(block))
    return {"type": "home", "blocks": rendered[:HOME_BLOCKS_MAX]}
