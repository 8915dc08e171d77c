"""A PostgreSQL server of a test's own: a fresh cluster in a temporary folder,
on a free loopback port, that the test may restart or stop without touching
the server every other test uses.

Made with the server's own tools (``initdb`` and ``pg_ctl``, about 1 s), run
as the ``postgres`` user when the tests run as root (the server refuses root).
With its own server, a test that restarts PostgreSQL runs beside the rest of
the parallel suite instead of alone after it.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.ports import free_port


def _bindir() -> Path | None:
    """The newest installed server's programs (Debian keeps them off PATH)."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    dirs = [d for d in glob.glob("/usr/lib/postgresql/*/bin") if os.path.exists(f"{d}/initdb")]
    dirs.sort(key=lambda d: [int(x) for x in d.split("/")[-2].split(".") if x.isdigit()])
    return Path(dirs[-1]) if dirs else None


def unavailable() -> str | None:
    """Why no server of a test's own can be made here, or None if one can."""
    if _bindir() is None:
        return "no PostgreSQL server programs (initdb, pg_ctl) are installed"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root, and there is no postgres user to run the server as"
        if shutil.which("runuser") is None:
            return "running as root, and runuser (to run the server as postgres) is missing"
    return None


class OwnPostgresError(Exception):
    """pg_ctl failed; the message has its error and the end of the server's log."""


@dataclass
class OwnPostgres:
    folder: Path
    port: int
    _bin: Path
    _as: list[str]

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        data, log = str(self.folder / "data"), str(self.folder / "server.log")
        pg_ctl = [*self._as, str(self._bin / "pg_ctl"), "-D", data, "-w", "-l", log]
        done = subprocess.run(
            [*pg_ctl, "-o", options, *args], capture_output=True, text=True, timeout=60
        )
        if done.returncode != 0:
            raise OwnPostgresError(
                f"pg_ctl {' '.join(args)} failed: {done.stderr.strip()}\n"
                f"server log:\n{self.log()[-2000:]}"
            )

    def restart(self) -> None:
        """Stop it (``fast``: open connections are cut) and start it again."""
        self._ctl("-m", "fast", "restart")

    def log(self) -> str:
        path = self.folder / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""


@contextmanager
def own_postgres() -> Iterator[OwnPostgres]:
    """A running server of its own; stopped and deleted afterwards."""
    why = unavailable()
    if why:
        raise RuntimeError(why)
    bindir = _bindir()
    assert bindir is not None
    # Not under pytest's tmp_path: that folder is private to the test's user,
    # and the server may run as another.
    folder = Path(tempfile.mkdtemp(prefix="readgroup-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(folder, user.pw_uid, user.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    server = OwnPostgres(folder, free_port(), bindir, run_as)
    try:
        initdb = [str(bindir / "initdb"), "-D", str(folder / "data"), "-U", "postgres"]
        subprocess.run(
            [*run_as, *initdb, "--auth=trust", "-E", "UTF8", "--no-sync"],
            check=True,
            capture_output=True,
            timeout=120,
        )
        server._ctl("start")
        yield server
    finally:
        with contextlib.suppress(OwnPostgresError, subprocess.SubprocessError, OSError):
            server._ctl("-m", "immediate", "stop")  # unless never started, or gone
        shutil.rmtree(folder, ignore_errors=True)
