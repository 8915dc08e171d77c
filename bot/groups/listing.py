"""Groups as the command line lists them, for ``--group``."""

from __future__ import annotations

from storage.groups.tables import Group


def group_list(groups: list[Group]) -> str:
    """One line per group, as ``--group`` takes them."""
    return "\n".join(
        f"  --group {g.id}: {g.platform} {g.workspace} #{g.channel}"
        + (f" ({g.name})" if g.name else "")
        for g in groups
    )
