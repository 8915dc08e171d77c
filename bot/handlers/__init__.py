"""Every command area registers its handlers on one router here."""

from __future__ import annotations

from bot.router import Router


def build_router() -> Router:
    from bot.handlers import digest, discussion, proposals, schedule
    from bot.handlers import help as help_area

    router = Router()
    proposals.register(router)
    schedule.register(router)
    discussion.register(router)
    digest.register(router)
    help_area.register(router)  # last: it lists what the others registered
    return router
