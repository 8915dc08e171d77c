"""Whether the database's schema is already the newest, without loading Alembic.

Every process checks the schema on start, and almost always it is current.
Alembic (about 11 MB and 0.3 s to import) is needed only to change it, so the
check reads the revision ids straight from the migration files (their
``revision`` and ``down_revision`` assignments, as Alembic itself writes
them) and compares the heads with the ``alembic_version`` table. Anything it
cannot read as expected counts as "not current", and the real upgrade runs.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

VERSIONS = Path(__file__).with_name("migrations") / "versions"


def _assignments(path: Path) -> dict[str, object]:
    found: dict[str, object] = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and node.value is not None:
                    try:
                        found[target.id] = ast.literal_eval(node.value)
                    except ValueError:
                        continue
    return found


@cache
def heads(versions: Path = VERSIONS) -> frozenset[str]:
    """The revisions no other revision builds on (every branch's newest)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted(versions.glob("*.py")):
        values = _assignments(path)
        revision = values.get("revision")
        if not isinstance(revision, str):
            continue
        revisions.add(revision)
        down = values.get("down_revision")
        if isinstance(down, str):
            parents.add(down)
        elif isinstance(down, tuple | list):
            parents.update(d for d in down if isinstance(d, str))
    return frozenset(revisions - parents)


def is_current(engine: Engine) -> bool:
    """True when the database is at every head already (nothing to upgrade)."""
    want = heads()
    if not want:
        return False
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("alembic_version"):
                return False
            have = {
                row[0] for row in conn.execute(sa.text("SELECT version_num FROM alembic_version"))
            }
    except sa.exc.SQLAlchemyError:
        return False
    return have == want
