"""Run the installed ``readgroup`` script as a real process without paying
its imports each time.

Most of a console test's CPU was the ~0.5 s each ``readgroup`` process spends
importing SQLAlchemy, SQLModel, pydantic and the bot before it reads its first
line. A *fork server* (the model is the "preload" of a pre-fork web server, or
Android's zygote) is a single-threaded process, one per test worker, that
imports those modules once and then forks a child per run. Each child is a real
process of its own: its own pid, environment, working directory, standard
streams, database connections and exit status; it runs the script's own entry
point (:func:`adapters.cli.run`), so it parses its arguments, reads its
settings and exits exactly as ``readgroup`` does.

What a child does not do is start a fresh interpreter, so a test about what the
process imports (``test_console_imports``, ``test_serve_imports``), about
signals, or about an environment read before ``main`` (``LD_PRELOAD``,
``PYTHON*`` variables, the hash seed) runs ``readgroup`` through
:mod:`subprocess` itself. :func:`run` does that too for any other command
line. ``tests/test_forkserver.py`` checks the children against the real script.

The standard library's ``multiprocessing`` forkserver is not used: it runs
Python functions with pickled arguments, not a command line with its own
standard streams and environment, and gives no exit status of a process the
test can wait for. A test needs exactly :func:`subprocess.run`'s answer.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import io
import json
import locale
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

READGROUP = Path(sys.executable).with_name("readgroup")

#: What a child would import anyway, loaded once in its server. Only modules
#: that are safe to import before a fork: none starts a thread or opens a file
#: or connection at import.
CORE = (
    "adapters.cli",
    "adapters.console.app",
    "bot.app",
    "bot.papers.fetch",
    "bot.digest.commands",
    "bot.digest.publishing",
    "storage.engine",
    "storage.migrations",
    "sqlalchemy.dialects.sqlite",
    "sqlalchemy.dialects.postgresql",
    "psycopg",
    "alembic.command",
    "arxiv",
)
#: One server per kind of run, each with only what that run imports: with
#: both platforms' SDKs loaded as well, a console child spent 0.19 instead of
#: 0.08 CPU-s (SQLAlchemy's first connection set up its event dispatch more
#: slowly with the many more classes alive).
PRELOADS = {
    "core": CORE,
    "slack": (*CORE, "adapters.slack.serve"),
    "discord": (*CORE, "adapters.discord.serve"),
}


def _kind(argv: list[str]) -> str:
    if len(argv) >= 3 and argv[1] == "serve" and argv[2] in PRELOADS:
        return argv[2]
    return "core"


#: Set (to anything) to run every ``readgroup`` with :mod:`subprocess` instead.
NO_FORKSERVER = "READGROUP_TEST_NO_FORKSERVER"

_MESSAGE = 1 << 20  # a request is one packet: argv, cwd and environment


def _preload(kind: str) -> None:
    import importlib

    for name in PRELOADS[kind]:
        importlib.import_module(name)


def _child(request: dict[str, Any], fds: list[int]) -> None:
    """In the forked child: become the requested ``readgroup`` run. Never returns."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        import time

        time.tzset()
        sys.argv = list(request["argv"])
        start_file = request.get("start_file")
        while start_file and not os.path.exists(start_file):
            time.sleep(0.0005)  # several children started together, as bench/upgrade_race does
        import adapters.cli

        try:
            adapters.cli.run()
            code = 0
        except SystemExit as stop:
            if stop.code is None:
                code = 0
            elif isinstance(stop.code, int):
                code = stop.code
            else:
                print(stop.code, file=sys.stderr)
                code = 1
        threading_shutdown = getattr(threading, "_shutdown", None)
        if threading_shutdown is not None:
            threading_shutdown()  # as the interpreter does: wait for non-daemon threads
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)


def serve(path: str, kind: str = "core") -> None:
    """The server's loop: one forked child per request on the socket at ``path``;
    each child's exit status goes back on its request's connection. Ends when
    its standard input (a pipe from the test worker) closes."""
    # As the installed script runs: its own folder first on the path, not the
    # folder the server was started in.
    sys.path[0] = str(READGROUP.parent)
    _preload(kind)
    # What every child inherits stays out of its collector's sight (and its
    # pages shared with the server's).
    gc.collect()
    gc.freeze()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(path)
    listener.listen(64)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, "accept")
    selector.register(wake_r, selectors.EVENT_READ, "child")
    selector.register(0, selectors.EVENT_READ, "parent")
    waiting: dict[int, socket.socket] = {}
    while True:
        for key, _ in selector.select():
            if key.data == "parent":
                if not os.read(0, 4096):
                    return
            elif key.data == "accept":
                conn, _ = listener.accept()
                message, fds, _, _ = socket.recv_fds(conn, _MESSAGE, 3)
                request = json.loads(message)
                pid = os.fork()
                if pid == 0:
                    for other in (listener, conn, *waiting.values()):
                        other.close()  # the child keeps none of the server's sockets
                    os.close(wake_r)
                    os.close(wake_w)
                    _child(request, fds)
                for fd in fds:
                    os.close(fd)
                waiting[pid] = conn
                conn.send(str(pid).encode())
            else:
                with contextlib.suppress(BlockingIOError):
                    os.read(wake_r, 4096)
                while waiting:
                    pid, status = os.waitpid(-1, os.WNOHANG)
                    if pid == 0:
                        break
                    done = waiting.pop(pid, None)
                    if done is not None:
                        with contextlib.suppress(OSError):
                            done.send(str(os.waitstatus_to_exitcode(status)).encode())
                        done.close()


class ForkServer:
    """The test worker's side: starts the server on first use, stops it at exit."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._dir = ""

    def _started(self) -> str:
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._dir = tempfile.mkdtemp(prefix="rg-forkserver-")
                path = os.path.join(self._dir, "socket")
                env = {
                    k: v
                    for k, v in os.environ.items()
                    if not k.startswith(("SLACK_", "DISCORD_", "OPENAI_", "READGROUP_"))
                    and k != "DATABASE_URL"
                }
                root = str(Path(__file__).resolve().parents[1])
                self._proc = subprocess.Popen(
                    [
                        sys.executable,
                        "-c",
                        f"from tests.forkserver import serve; serve({path!r}, {self.kind!r})",
                    ],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    cwd=root,
                    env=env,
                )
                assert self._proc.stdout is not None
                if self._proc.stdout.readline() != b"ready\n":
                    raise RuntimeError("the fork server did not start")
                atexit.register(self.stop)
            return os.path.join(self._dir, "socket")

    def stop(self) -> None:
        with self._lock:
            if self._proc is not None:
                assert self._proc.stdin is not None
                self._proc.stdin.close()
                self._proc.wait(10)
                self._proc = None
                shutil.rmtree(self._dir, ignore_errors=True)  # its socket's folder

    def connect(self) -> socket.socket:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        conn.connect(self._started())
        return conn


_SERVERS = {kind: ForkServer(kind) for kind in PRELOADS}


class Child:
    """The part of :class:`subprocess.Popen` the tests use, for a forked
    ``readgroup`` run: ``pid``, the standard streams (``PIPE``, ``DEVNULL`` or
    a file), ``poll``, ``wait``, ``send_signal``, ``kill``, ``terminate``,
    ``returncode``. The pid is the child's real pid, so signals reach it."""

    def __init__(
        self,
        argv: list[str],
        *,
        env: dict[str, str],
        cwd: str | Path | None = None,
        stdin: Any = subprocess.DEVNULL,
        stdout: Any = subprocess.DEVNULL,
        stderr: Any = subprocess.DEVNULL,
        text: bool = False,
        start_file: str | None = None,
    ) -> None:
        self.args = argv
        self.returncode: int | None = None
        self.stdin: Any = None
        self.stdout: Any = None
        self.stderr: Any = None
        theirs: list[int] = []
        ours: list[tuple[str, int, str]] = []
        with contextlib.ExitStack() as opened:
            for name, spec, mode in (
                ("stdin", stdin, "w"),
                ("stdout", stdout, "r"),
                ("stderr", stderr, "r"),
            ):
                if spec == subprocess.PIPE:
                    r, w = os.pipe()
                    child_end, our_end = (r, w) if mode == "w" else (w, r)
                    opened.callback(os.close, child_end)
                    theirs.append(child_end)
                    ours.append((name, our_end, mode))
                elif spec == subprocess.DEVNULL or spec is None:
                    fd = os.open(os.devnull, os.O_RDWR)
                    opened.callback(os.close, fd)
                    theirs.append(fd)
                else:
                    theirs.append(spec if isinstance(spec, int) else spec.fileno())
            request = json.dumps(
                {
                    "argv": [str(a) for a in argv],
                    "env": env,
                    "cwd": str(cwd or os.getcwd()),
                    "start_file": start_file,
                }
            ).encode()
            self._conn = _SERVERS[_kind([str(a) for a in argv])].connect()
            socket.send_fds(self._conn, [request], theirs)
            self.pid = int(self._conn.recv(64))
        for name, fd, mode in ours:
            if text:
                stream: Any = open(  # noqa: SIM115 - it lives as long as the child, as Popen's do
                    fd,
                    mode,
                    buffering=1 if mode == "w" else -1,
                    encoding=locale.getpreferredencoding(False),
                )
            else:
                stream = open(fd, mode + "b", buffering=0 if mode == "w" else -1)  # noqa: SIM115
            setattr(self, name, stream)

    def _answer(self, timeout: float | None) -> int | None:
        if self.returncode is None:
            self._conn.settimeout(timeout)
            try:
                answer = self._conn.recv(64)
            except (TimeoutError, BlockingIOError):
                return None
            if not answer:
                raise RuntimeError("the fork server ended before its child did")
            self.returncode = int(answer)
            self._conn.close()
        return self.returncode

    def communicate(self, input: str = "", timeout: float | None = None) -> tuple[Any, Any]:
        """As :meth:`subprocess.Popen.communicate`: feed ``input``, read the
        piped outputs to their end, wait for the exit."""
        results: dict[str, Any] = {}

        def read(name: str) -> None:
            results[name] = getattr(self, name).read()

        readers = [
            threading.Thread(target=read, args=(name,), daemon=True)
            for name in ("stdout", "stderr")
            if getattr(self, name) is not None
        ]
        for reader in readers:
            reader.start()
        if self.stdin is not None:
            # As subprocess does: a child that exits without reading its input is no error.
            with contextlib.suppress(BrokenPipeError):
                self.stdin.write(input if isinstance(self.stdin, io.TextIOBase) else input.encode())
            with contextlib.suppress(BrokenPipeError):
                self.stdin.close()
        self.wait(timeout)
        for reader in readers:
            reader.join(timeout)
        return results.get("stdout"), results.get("stderr")

    def poll(self) -> int | None:
        return self._answer(0)

    def wait(self, timeout: float | None = None) -> int:
        code = self._answer(timeout)
        if code is None:
            raise subprocess.TimeoutExpired(self.args, timeout or 0)
        return code

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


def _forking(argv: list[str]) -> bool:
    return bool(argv) and Path(argv[0]) == READGROUP and enabled()


def enabled() -> bool:
    """False when READGROUP_TEST_NO_FORKSERVER is set."""
    return not os.environ.get(NO_FORKSERVER)


def Popen(
    argv: list[str],
    *,
    env: dict[str, str],
    cwd: str | Path | None = None,
    stdin: Any = subprocess.DEVNULL,
    stdout: Any = subprocess.DEVNULL,
    stderr: Any = subprocess.DEVNULL,
    text: bool = False,
    start_file: str | None = None,
) -> Child | subprocess.Popen[Any]:
    """A forked :class:`Child` when ``argv`` runs the ``readgroup`` script,
    else (or with READGROUP_TEST_NO_FORKSERVER set) :class:`subprocess.Popen`.
    With ``start_file``, the child runs the command once that file exists
    (only a forked child can wait so)."""
    if _forking(argv):
        return Child(
            argv,
            env=env,
            cwd=cwd,
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            text=text,
            start_file=start_file,
        )
    if start_file is not None:
        raise ValueError("only a forked child waits for a start file")
    return subprocess.Popen(
        argv, env=env, cwd=cwd, stdin=stdin, stdout=stdout, stderr=stderr, text=text
    )


def run(
    argv: list[str],
    *,
    input: str = "",
    env: dict[str, str] | None = None,
    cwd: Path | str | None = None,
    timeout: float = 90,
) -> subprocess.CompletedProcess[str]:
    """:func:`subprocess.run` with ``capture_output=True, text=True``, in a
    forked child when ``argv`` runs the ``readgroup`` script."""
    environ = dict(os.environ if env is None else env)
    if not _forking(argv):
        return subprocess.run(
            argv,
            input=input,
            capture_output=True,
            text=True,
            env=environ,
            cwd=cwd,
            timeout=timeout,
            check=False,
        )
    child = Child(
        [str(a) for a in argv],
        env=environ,
        cwd=cwd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = child.communicate(input, timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait(30)
        raise subprocess.TimeoutExpired(argv, timeout) from None
    return subprocess.CompletedProcess(argv, child.wait(), out, err)
