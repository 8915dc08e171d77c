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


_WANTED = ("revision", "down_revision")


def _assignments(path: Path) -> dict[str, object]:
    """The file's ``revision`` and ``down_revision``, read from their lines
    (parsing all 13 files took 6 ms of every start); the whole file is parsed
    only when one of them is not a one-line literal."""
    text = path.read_text()
    found: dict[str, object] = {}
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        name = name.split(":")[0].strip()  # "revision: str = ..." as Alembic writes it
        if not sep or name not in _WANTED or line[:1].isspace() or name in found:
            continue
        try:
            found[name] = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            return _parsed(text)
    return found


def _parsed(text: str) -> dict[str, object]:
    found: dict[str, object] = {}
    for node in ast.parse(text).body:
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
