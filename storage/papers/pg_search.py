"""/history's matches on PostgreSQL: the newest ``size`` of a group's
proposals (by paper) whose copy of the search vector matches the query, each
with its ``ts_rank`` (negated: lower is better, as bm25 on SQLite).

Testing a proposal's vector means reading it from the TOAST table (2-3 us),
about 30 times what an entry of the GIN index costs. Two ways to find the
matches: walking the group's newest proposals and testing each, which wins
only when most papers match; or the GIN index's matches ANDed, as bitmaps,
with a range of the group's newest proposals from the btree index on (group,
paper), long enough to hold the matches wanted, so that only those rows are
read from the table (reading every match of the group from the table cost
more than ranking the thousand kept: 24,000 rows for a word in a quarter of
100,000 papers). The planner cannot tell which is cheaper (it does not count
the reads of the vectors) and left alone walks. So :func:`newest_matches`
first walks the newest :data:`PROBE` proposals (enough when a word is common,
and all of a small group), and from the share that matched there picks the
way for the rest and the length of the range."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from storage.papers import search

#: How many of the group's newest proposals are tested first (a share
#: measured on 300 is within a few points; each costs a vector read).
PROBE = 300
#: A proposal tested in the walk (its vector read, 2-3 us) costs about this
#: many entries of the GIN index (~0.08 us each when a bitmap is built): at
#: 100,000 papers the walk goes on only for a word in over half of them.
WALK_COST = 30
#: The range read for the rest is this many times the proposals expected to
#: hold it (from the probe's share), plus :data:`SPAN_SLACK`: a share measured
#: on 300 is off by more than a third about once in a few hundred words, and a
#: second range costs about what the first did (a longer range costs ~0.1 us
#: a proposal).
SPAN_MARGIN = 1.5
SPAN_SLACK = 64
#: A proposal of the range (counted back in the (group, paper) index to find
#: where it starts, then its bitmap) costs about this many matches read from
#: the table: so a rare word's range, most of the group for a few matches
#: saved, is not read. 0.5 left out the range for a word in 9% of 100,000
#: papers, 17.2 ms where with it 14.4 ms (0.1 did no better than 0.2).
RANGE_COST = 0.2
#: ``cpu_tuple_cost`` for the bitmap statement (see :func:`_with_bitmaps`):
#: at 0.1 the planner still read the range's bitmap alone for a word in 40% of
#: the papers (3,500 vectors tested, 19 ms; ANDed with the GIN index's 43,000
#: entries, 8.5 ms).
ROW_COST = 1.0

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
    return found + _bitmap_matches(
        session,
        args,
        where,
        last=probe[-1][3] if probe else None,
        rest=size - len(found),
        share=share,
        group_size=group_size,
    )


def _bitmap_matches(
    session: Session,
    args: dict[str, Any],
    where: str,
    *,
    last: int | None,
    rest: int,
    share: float,
    group_size: int,
) -> list[tuple[int, float, Any]]:
    """The newest ``rest`` matches older than paper ``last`` (None: the
    probe found none), from the GIN index, read a range of the group's newest
    proposals at a time: the range's entries in the group's btree index and
    the word's in the GIN index are ANDed as bitmaps, so only the matches in
    the range are read from the table, not every match of the group (24,000
    rows for a word in a quarter of 100,000 papers, where ~1,300 do)."""
    out: list[tuple[int, float, Any]] = []
    span = _span(rest, share, group_size)
    while rest > 0:
        # The paper ``span`` proposals back, none when fewer are left (the
        # range reaches the start): an index-only read of the group's
        # (group, paper) index, which holds the proposals not withdrawn.
        bound = None
        if span:
            bound = session.execute(
                sa.text(f"""
                    SELECT p.paper_id FROM proposals p
                    WHERE p.group_id = :group AND p.status <> 'withdrawn'
                    {"AND p.paper_id < :last" if last is not None else ""}
                    ORDER BY p.paper_id DESC OFFSET :span LIMIT 1"""),
                {**args, "last": last, "span": span - 1},
            ).scalar()
        # the range in the btree index; without one the whole rest of the
        # group, and ``+ 0`` keeps the planner from walking it
        older = (
            "" if last is None else f"AND p.paper_id {'' if bound is not None else '+ 0 '}< :last"
        )
        sql = f"""
            SELECT id, -ts_rank({_COL}, q), at, paper_id FROM (
                SELECT p.id, p.paper_id, p.{_COL}, q, {_AT} AS at FROM proposals p, {_Q} AS q
                WHERE {where} AND p.{_COL} @@ q {older}
                {"AND p.paper_id >= :bound" if bound is not None else ""}
                ORDER BY p.paper_id + 0 DESC LIMIT :rest
            ) AS newest ORDER BY paper_id DESC"""
        params = {**args, "last": last, "bound": bound, "rest": rest}
        if bound is None:
            # the whole rest of the group: the GIN index's matches, sorted
            rows = session.execute(sa.text(sql), params).all()
        else:
            rows = _with_bitmaps(session, sa.text(sql), params)
        out += [(int(i), float(s), at) for i, s, at, _ in rows]
        if bound is None:
            break
        rest -= len(rows)
        # short: the word is rarer among the older papers; the next range is
        # reckoned at half the share, so it grows if it keeps falling short
        last, share = bound, share / 2
        span = _span(rest, share, group_size)
    return out


def _span(rest: int, share: float, group_size: int) -> int:
    """How many proposals a range reads to hold ``rest`` matches at ``share``;
    0 (no range: the whole rest of the group) for a word so rare that the
    range would cost more than the matches it leaves out of the table."""
    if not share:
        return 0
    span = int(rest / share * SPAN_MARGIN) + SPAN_SLACK
    return span if span * RANGE_COST < share * (group_size - span) else 0


def _with_bitmaps(session: Session, sql: sa.TextClause, params: dict[str, Any]) -> list[Any]:
    """Run ``sql`` planned to AND the range's bitmap with the GIN index's.
    Left alone the planner walks the range through the btree index and tests
    each row's vector (or reads the range's bitmap alone and tests them): it
    counts a row's ``@@`` as one operator (0.0025) though reading the vector
    costs about 30 GIN entries. So, for this statement only (``set_config``
    local to the transaction, then put back): no plain index scans, and a
    table row counted at :data:`ROW_COST` (its default is 0.01). Should the
    statement fail, the transaction's rollback puts them back."""
    old = session.execute(
        sa.text(
            "SELECT current_setting('enable_indexscan'), current_setting('cpu_tuple_cost'), "
            "set_config('enable_indexscan', 'off', true), set_config('cpu_tuple_cost', :c, true)"
        ),
        {"c": str(ROW_COST)},
    ).one()
    rows = list(session.execute(sql, params).all())
    session.execute(
        sa.text(
            "SELECT set_config('enable_indexscan', :i, true), "
            "set_config('cpu_tuple_cost', :c, true)"
        ),
        {"i": old[0], "c": old[1]},
    )
    return rows
