"""/history's matches on PostgreSQL: the newest ``size`` of a group's
proposals (by paper) whose copy of the search vector matches the query, each
with its ``ts_rank`` (negated: lower is better, as bm25 on SQLite).

Two ways to find them, and the planner cannot tell which is cheaper: walking
the group's newest proposals and testing each vector reads a vector from the
TOAST table per proposal (about 8 times what a match read from the GIN index
costs), so it wins only when a good share of the papers match; the GIN index
reads every match of the group, so it wins for the rarer words. The planner
walks for words it expects in a few percent of the papers (it does not count
the reads of the vectors), which for a word in one paper of ten at 100,000
papers is ten times slower than the index. So :func:`newest_matches` first
walks the newest :data:`PROBE` proposals (enough when a word is common, and
all of a small group) and from the share that matched there picks the cheaper
way for the rest.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from storage.papers import search

#: How many of the group's newest proposals are tested first (a share
#: measured on 300 is within a few points; each costs a vector read).
PROBE = 300
#: A proposal tested in the walk costs about this many matches read through
#: the GIN index (and sorted): 10-17 us against 1.6 us at 100,000 papers in
#: one group, under load.
WALK_COST = 8

_COL = search.PG_COLUMN
_AT = "coalesce(p.presented_at, p.created_at)"
_Q = "to_tsquery('simple'::regconfig, :query)"


def _group(shown: str) -> str:
    return f"p.group_id = :group AND p.status IN ({shown})"


def newest_matches(
    session: Session, *, group_id: int, tokens: list[str], size: int, group_size: int, shown: str
) -> list[tuple[int, float, Any]]:
    """(proposal id, -ts_rank, time) of the newest ``size`` matches, newest
    first. ``group_size``: the group's proposals in the ``shown`` statuses
    (an SQL list of quoted statuses)."""
    args = {"group": group_id, "query": search.pg_query(tokens), "size": size, "probe": PROBE}
    where = _group(shown)
    # The subquery's LIMIT keeps the match test out of it: a walk of the newest.
    probe = session.execute(
        sa.text(f"""
            SELECT id, -ts_rank({_COL}, q), at, paper_id FROM (
                SELECT p.id, p.paper_id, p.{_COL}, {_AT} AS at FROM proposals p
                WHERE {where} ORDER BY p.paper_id DESC LIMIT :probe
            ) AS newest, {_Q} AS q
            WHERE {_COL} @@ q ORDER BY paper_id DESC"""),
        args,
    ).all()
    found = [(int(r[0]), float(r[1]), r[2]) for r in probe]
    if len(found) >= size or group_size <= PROBE:
        return found[:size]
    share = len(found) / PROBE
    if share and (size - len(found)) / share * WALK_COST < share * group_size:
        # Go on walking past the probe. ``IS TRUE``: not a condition the GIN
        # index can serve, so the planner walks.
        more = session.execute(
            sa.text(f"""
                SELECT id, -ts_rank({_COL}, q), at FROM (
                    SELECT p.id, p.{_COL}, q, {_AT} AS at FROM proposals p, {_Q} AS q
                    WHERE {where} AND p.paper_id < :last AND (p.{_COL} @@ q) IS TRUE
                    ORDER BY p.paper_id DESC LIMIT :rest
                ) AS newest"""),
            {**args, "last": probe[-1][3], "rest": size - len(found)},
        ).all()
        return found + [(int(i), float(s), at) for i, s, at in more]
    # All the group's matches from the GIN index, then the newest of them:
    # ordered by an expression no index gives, so the planner cannot walk.
    rows = session.execute(
        sa.text(f"""
            SELECT id, -ts_rank({_COL}, q), at FROM (
                SELECT p.id, p.{_COL}, q, {_AT} AS at FROM proposals p, {_Q} AS q
                WHERE {where} AND p.{_COL} @@ q
                ORDER BY p.paper_id + 0 DESC LIMIT :size
            ) AS newest"""),
        args,
    ).all()
    return [(int(i), float(s), at) for i, s, at in rows]
