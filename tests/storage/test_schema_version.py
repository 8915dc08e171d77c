"""The start-up check that the schema is current, without Alembic."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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


def test_revisions_written_over_several_lines_are_read_too(tmp_path: Path) -> None:
    """A merge revision's ``down_revision`` tuple may span lines: the line
    reader gives up on it and the file is parsed whole."""
    (tmp_path / "a.py").write_text('revision = "a"\ndown_revision = None\n')
    (tmp_path / "b.py").write_text('revision = "b"\ndown_revision = "a"\n')
    (tmp_path / "c.py").write_text('revision: str = "c"\ndown_revision = "a"\n')
    (tmp_path / "m.py").write_text(
        'revision = "m"\ndown_revision = (\n    "b",\n    "c",\n)\n\n\ndef upgrade():\n'
        '    revision = "not this one"\n'
    )
    assert heads(tmp_path) == frozenset({"m"})
    (tmp_path / "d.py").write_text('"""d"""\nrevision = "d"\ndown_revision: str | None = "m"\n')
    heads.cache_clear()
    assert heads(tmp_path) == frozenset({"d"})
