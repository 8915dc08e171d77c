"""Ctrl-C quits the console at once, cleanly (issue 13): at the prompt of a
terminal, and with a pipe that is still open (no end of input yet)."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

READGROUP = Path(sys.executable).with_name("readgroup")
QUIT_WITHIN = 10.0  # seconds; a loaded machine takes ~2 s to tear the interpreter down


def _env(tmp_path: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "OPENAI_"))
    }
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'readgroup.db'}", ARXIV_API_URL="http://127.0.0.1:9/"
    )
    return env


def _read_until(fd: int, marker: bytes, timeout: float = 90) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while marker not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"never saw {marker!r}; got {seen[-500:]!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # a pty reads EIO once the other side is gone
                chunk = b""
            assert chunk, f"the console exited early: {seen[-500:]!r}"
            seen += chunk
    return seen


def _as_at_a_terminal() -> None:
    """Ctrl-C as a shell gives it: pytest-xdist's workers ignore SIGINT, and a
    child inherits that, so without this the console would never see it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _interrupt(proc: subprocess.Popen[bytes]) -> tuple[int, float]:
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:
        code = proc.wait(QUIT_WITHIN)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
        pytest.fail(f"the console was still running {QUIT_WITHIN:.0f} s after Ctrl-C")
    return code, time.monotonic() - started


def test_ctrl_c_quits_with_the_input_pipe_still_open(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [str(READGROUP), "console", "--user", "bob"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(tmp_path),
        cwd=tmp_path,
        preexec_fn=_as_at_a_terminal,
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    proc.stdin.write(b"/help\n")
    proc.stdin.flush()
    _read_until(proc.stdout.fileno(), b"/propose")  # answered: now waiting for the next line
    code, _took = _interrupt(proc)
    errors = proc.stderr.read().decode()
    proc.stdin.close()
    proc.stdout.close()
    proc.stderr.close()
    assert code in (0, 130), errors
    assert "Traceback" not in errors and "KeyboardInterrupt" not in errors, errors


def test_ctrl_c_at_the_terminal_prompt_quits(tmp_path: Path) -> None:
    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen(
            [str(READGROUP), "console", "--user", "bob"],
            stdin=follower,
            stdout=follower,
            stderr=follower,
            env=_env(tmp_path),
            cwd=tmp_path,
            preexec_fn=_as_at_a_terminal,
        )
        os.close(follower)
        follower = -1
        _read_until(leader, b"readgroup> ")
        code, _took = _interrupt(proc)
        rest = b""
        while select.select([leader], [], [], 0.2)[0]:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            rest += chunk
    finally:
        if follower != -1:
            os.close(follower)
        os.close(leader)
    text = rest.decode(errors="replace")
    assert code in (0, 130), text
    assert "Traceback" not in text and "KeyboardInterrupt" not in text, text
