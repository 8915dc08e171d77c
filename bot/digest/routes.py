"""The digest's command and buttons, registered without loading the feature.

``/digest`` and the draft's buttons are handled in :mod:`bot.digest.commands`,
imported the first time one of them is used (:class:`bot.chat.deferred.Deferred`);
the recovery of interrupted publications at start loads
:mod:`bot.digest.publishing` only when a draft is being published
(:func:`storage.digest.probe.any_publishing`). A console or server that never
drafts a post never imports the digest's tables, prompts or rendering.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.chat.deferred import Deferred
from bot.chat.router import Option, Router
from bot.digest.action_ids import (
    APPROVE,
    DISCARD,
    EDIT,
    EDIT_SAVE,
    KEEP_EDIT,
    REGENERATE,
    REGENERATE_ANYWAY,
)
from storage.digest.probe import any_publishing

if TYPE_CHECKING:
    from bot.infra.runtime import Runtime

log = logging.getLogger(__name__)

_COMMANDS = "bot.digest.commands"
_OWNER = Deferred("bot.digest.owners:draft_owner")
_ACTIONS = {
    APPROVE: "approve",
    EDIT: "edit",
    EDIT_SAVE: "save_edit",
    REGENERATE: "regenerate",
    REGENERATE_ANYWAY: "regenerate_anyway",
    KEEP_EDIT: "keep_edit",
    DISCARD: "discard",
}


def register(router: Router) -> None:
    router.command(
        "digest",
        summary="Draft this week's “This Week in ML” post for approval (organizers).",
        example="/digest 2026-W47",
        options=(Option("week", "ISO week like 2026-W47 (default: this week)"),),
        organizer_only=True,
    )(Deferred(f"{_COMMANDS}:draft"))
    for kind, handler in _ACTIONS.items():
        router.action(kind, owner=_OWNER)(Deferred(f"{_COMMANDS}:{handler}"))


def start_recovery(bot: Runtime) -> None:
    """At start: finish interrupted publications
    (:func:`bot.digest.publishing.run_recovery`) if any draft is being
    published; otherwise there is nothing to recover and nothing is loaded.
    Not a ``loop:`` task, so the console's end of input waits for it
    (bounded) instead of cancelling a publication half-way."""
    bot.spawn(_recover_if_any(bot), name="publish-recovery")


async def _recover_if_any(bot: Runtime) -> None:
    try:
        busy = await bot.db(any_publishing)
    except Exception:
        log.exception("looking for interrupted publications failed")
        return
    if busy:
        from bot.digest.publishing import run_recovery

        await run_recovery(bot)  # in this task: the console's end of input still waits for it
