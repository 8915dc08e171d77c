"""The start-up check that the schema is current, without Alembic."""

from __future__ import annotations

import subprocess
import sys

import sqlalchemy as sa
from alembic.script import ScriptDirectory

from storage.engine import MIGRATIONS, make_engine, upgrade
from storage.schema_version import heads, is_current


def test_the_heads_read_from_the_files_are_alembics() -> None:
    assert heads() == frozenset(ScriptDirectory(str(MIGRATIONS)).get_heads())


def test_a_new_database_is_not_current_and_an_upgraded_one_is(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        assert not is_current(engine)
        upgrade(engine)
        assert is_current(engine)
        with engine.begin() as conn:  # one branch behind
            conn.execute(
                sa.text("DELETE FROM alembic_version WHERE version_num = :v"),
                {"v": sorted(heads())[0]},
            )
        assert not is_current(engine)
    finally:
        engine.dispose()


def test_starting_on_a_current_schema_does_not_load_alembic(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    engine.dispose()
    probe = (
        "import sys\n"
        "from storage.engine import make_engine, upgrade\n"
        f"engine = make_engine({database_url!r})\n"
        "upgrade(engine)\n"
        "print('alembic' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "False"
