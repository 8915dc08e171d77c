"""The schedule area's commands, one module per command:
``/readgroup config`` and ``skip`` (:mod:`bot.schedule.config_command`),
``/rotation`` (:mod:`bot.schedule.rotation_command`), ``/away``
(:mod:`bot.schedule.away_command`), ``/schedule``
(:mod:`bot.schedule.schedule_command`), ``/present`` and the ``present_pick``
button of the presenter nudge (:mod:`bot.schedule.present_command`).

Every change recomputes the group's sessions and presenters in the same
transaction (so the reply shows the new plan) and wakes the scheduler (so
reminders follow at once).
"""

from __future__ import annotations

from bot.chat.router import Router
from bot.schedule import (
    away_command,
    config_command,
    present_command,
    rotation_command,
    schedule_command,
)


def register(router: Router) -> None:
    """Register every schedule command, in the order ``/help`` lists them."""
    for module in (
        config_command,
        rotation_command,
        away_command,
        schedule_command,
        present_command,
    ):
        module.register(router)
