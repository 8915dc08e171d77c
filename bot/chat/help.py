"""/help: every command with a one-line example, from the router itself."""

from __future__ import annotations

import re
from typing import Any

from bot.chat.markup import esc
from bot.chat.replies import Context, Header, Reply, Text
from bot.chat.router import Ctx, Router


def register(router: Router) -> None:
    @router.command("help", summary="List every command with an example.", example="/help")
    async def show_help(ctx: Ctx[Any]) -> Reply:
        lines = []
        for spec in sorted(router.commands.values(), key=lambda s: s.name):
            summary, who = spec.summary, ""
            if spec.organizer_only:
                # Summaries double as Discord command descriptions, where some
                # say "(organizers)" themselves: the marker is added once here.
                summary = re.sub(r"\s*\(organizers\)", "", summary, flags=re.IGNORECASE)
                who = " _(organizers)_"
            lines.append(f"**/{esc(spec.name)}** — {esc(summary)}{who}  e.g. `{esc(spec.example)}`")
        return Reply(
            blocks=(
                Header("readgroup commands"),
                Text("\n".join(lines)),
                Context(
                    "Propose arXiv papers, vote with the ▲ button, and the bot keeps the queue, "
                    "the rotation and the weekly post."
                ),
            ),
            private=True,
        )
