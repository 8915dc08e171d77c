"""Each part of a published post carries a tag, so a publisher that takes
over an interrupted publication can ask the platform whether a part it has
no record of went out before the kill (Slack: message metadata, read back
with ``conversations.history``), instead of posting it a second time."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.chat.messenger import posted_before
from bot.infra.clock import as_utc

if TYPE_CHECKING:
    from bot.digest.publishing import Claim
    from bot.infra.runtime import Runtime


def part_tag(draft_id: int, revision: int, number: int) -> str:
    """What part ``number`` of a draft's revision carries on the platform."""
    return f"digest:{draft_id}:{revision}:{number}"


async def went_out(bot: Runtime, c: Claim, tag: str) -> str | None:
    """The message id of the part tagged ``tag`` if the publisher ``c`` took
    over posted it (since the draft was approved), else None."""
    assert c.view is not None and c.place is not None
    since = c.view.draft.approved_at
    if since is None:
        return None
    return await posted_before(bot.messenger, c.place, tag, as_utc(since))
