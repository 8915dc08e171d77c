"""The fork server (tests/forkserver.py) runs ``readgroup`` as the installed
script does: same output, exit status and errors, each child with exactly its
own environment and working directory, a real pid that signals reach."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from pathlib import Path

import pytest

from tests import forkserver

READGROUP = str(forkserver.READGROUP)


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "DISCORD_", "OPENAI_", "READGROUP_"))
    }
    env.update({"DATABASE_URL": f"sqlite:///{tmp_path / 'rg.db'}", **extra})
    return env


def _real(argv: list[str], env: dict[str, str], stdin: str, cwd: Path) -> tuple[int, str, str]:
    done = subprocess.run(
        argv, input=stdin, capture_output=True, text=True, env=env, cwd=cwd, timeout=60
    )
    return done.returncode, done.stdout, done.stderr


def _forked(argv: list[str], env: dict[str, str], stdin: str, cwd: Path) -> tuple[int, str, str]:
    done = forkserver.run(argv, input=stdin, env=env, cwd=cwd, timeout=60)
    return done.returncode, done.stdout, done.stderr


@pytest.mark.parametrize(
    ("args", "stdin", "extra"),
    [
        (["frobnicate"], "", {}),
        (["console", "--user", "ann"], "/help\n/queue\n/propose nope\n", {}),
        (["db", "upgrade"], "", {"READGROUP_LLM_CONCURRENCY": "lots"}),
        (["slack-manifest", "--socket"], "", {}),
    ],
    ids=["bad-command", "console", "bad-setting", "manifest"],
)
def test_a_forked_run_answers_as_the_installed_script_does(
    tmp_path: Path, args: list[str], stdin: str, extra: dict[str, str]
) -> None:
    # Each on its own fresh database, so the two runs see the same state.
    real_dir, forked_dir = tmp_path / "real", tmp_path / "forked"
    real_dir.mkdir()
    forked_dir.mkdir()
    real = _real([READGROUP, *args], _env(real_dir, **extra), stdin, real_dir)
    forked = _forked([READGROUP, *args], _env(forked_dir, **extra), stdin, forked_dir)
    assert forked == real
    assert real[1] or real[2]  # the comparison compared something


def test_each_child_has_only_its_own_environment_and_folder(tmp_path: Path) -> None:
    bad = forkserver.run(
        [READGROUP, "db", "upgrade"],
        env=_env(tmp_path, READGROUP_LLM_CONCURRENCY="0"),
        cwd=tmp_path,
    )
    assert bad.returncode == 2 and "READGROUP_LLM_CONCURRENCY=0" in bad.stderr
    # The next child does not see the setting the last one was given.
    good = forkserver.run([READGROUP, "db", "upgrade"], env=_env(tmp_path), cwd=tmp_path)
    assert good.returncode == 0, good.stderr
    # A relative database path is the child's working directory's.
    env = _env(tmp_path, DATABASE_URL="sqlite:///here.db")
    here = forkserver.run([READGROUP, "db", "upgrade"], env=env, cwd=tmp_path)
    assert here.returncode == 0, here.stderr
    assert (tmp_path / "here.db").exists()


def test_a_child_is_a_process_of_its_own_that_signals_reach(tmp_path: Path) -> None:
    child = forkserver.Popen(
        [READGROUP, "console", "--user", "ann"],
        env=_env(tmp_path),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert isinstance(child, forkserver.Child)
    assert child.pid not in (os.getpid(), os.getppid())
    with pytest.raises(subprocess.TimeoutExpired):
        child.wait(0.5)  # waiting for input, as the console does on a terminal
    assert child.poll() is None
    child.kill()
    assert child.wait(10) == -signal.SIGKILL
    with pytest.raises(ProcessLookupError):
        os.kill(child.pid, 0)


def test_a_run_past_its_timeout_is_killed_and_says_so(tmp_path: Path) -> None:
    # An arXiv that takes the connection and never answers: the console waits
    # for it (up to 10 s) at the end of its input.
    with socket.socket() as silent, pytest.raises(subprocess.TimeoutExpired) as raised:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        forkserver.run(
            [READGROUP, "console"],
            input="/propose 1605.08386\n",
            env=_env(tmp_path, ARXIV_API_URL=f"http://127.0.0.1:{silent.getsockname()[1]}/"),
            timeout=1,
        )
    assert raised.value.timeout == 1


def test_other_command_lines_run_as_plain_subprocesses(tmp_path: Path) -> None:
    done = forkserver.run(["/bin/echo", "hi"], env=_env(tmp_path))
    assert (done.returncode, done.stdout) == (0, "hi\n")
    assert isinstance(forkserver.Popen(["/bin/true"], env=_env(tmp_path)), subprocess.Popen)
