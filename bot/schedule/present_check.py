"""/present of a paper arXiv does not have: refused before any session changes.

Choosing first and checking later left the session pointing at a paper that
does not exist (and its clean-up then failed on the session's reference), so
the paper is looked up first; only an answer of "no such paper" refuses. When
arXiv is slow or down the choice goes ahead with the id, as before, and the
fetch loop completes (or, if arXiv later says it has no such paper, releases)
the session's paper.
"""

from __future__ import annotations

from bot.chat.markup import esc
from bot.chat.replies import Reply, error
from bot.infra.runtime import Ctx
from bot.papers import fetch
from bot.papers.fetch import Outcome, check_exists


async def refuse_missing(ctx: Ctx, arxiv_id: str) -> Reply | None:
    """An error reply if arXiv says the paper does not exist, else None."""
    outcome = await check_exists(ctx.bot, arxiv_id, fetch.ARXIV_WAIT_SECONDS)
    if outcome is Outcome.NOT_FOUND:
        return error(
            f"arXiv has no paper `{esc(arxiv_id)}`, so I didn't change any session. Check "
            "the id on arxiv.org (new ids look like `2401.01234`, old ones like "
            "`hep-th/9901001`) and run `/present <id>` again, or pick from `/queue`."
        )
    if outcome is Outcome.INVALID:
        return error(
            f"arXiv says `{esc(arxiv_id)}` is not a valid arXiv id, so I didn't change any "
            "session. Use a link like `https://arxiv.org/abs/1706.03762` or an id like "
            "`1706.03762`."
        )
    return None
