"""The bot killed with SIGKILL and started again: nothing a user gave is lost
or doubled."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests import forkserver
from tests.fakes.arxiv_server import FAST_ENV, FakeArxiv

READGROUP = Path(sys.executable).with_name("readgroup")
TITLE = "Heat-bath random walks with Markov bases"


class LiveConsole:
    """A console process fed line by line, read until an expected text shows."""

    def __init__(self, database_url: str, arxiv_url: str, user: str) -> None:
        env = {**os.environ, **FAST_ENV, "DATABASE_URL": database_url, "ARXIV_API_URL": arxiv_url}
        self.proc = forkserver.Popen(
            [str(READGROUP), "console", "--user", user],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
        self.seen = ""

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def wait_for(self, text: str, timeout: float = 30) -> str:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            left = deadline - time.monotonic()
            assert left > 0, f"never saw {text!r}; got:\n{self.seen}"
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:  # read the raw pipe: a buffered reader would hide data from select
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                assert chunk, f"console exited early; output:\n{self.seen}"
                self.seen += chunk.decode()
        return self.seen

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


def run_once(database_url: str, arxiv_url: str, stdin: str, user: str = "carol") -> str:
    env = {**os.environ, **FAST_ENV, "DATABASE_URL": database_url, "ARXIV_API_URL": arxiv_url}
    done = forkserver.run([str(READGROUP), "console", "--user", user], input=stdin, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_sigkill_after_proposals_and_votes_loses_and_doubles_nothing(
    database_url: str, fake_arxiv: FakeArxiv
) -> None:
    alice = LiveConsole(database_url, fake_arxiv.url, "alice")
    alice.send("/propose 1605.08386 first")
    alice.wait_for(TITLE)
    alice.send("/propose 1707.08567")
    alice.wait_for("/press 2")
    alice.send("/press 2")  # alice takes back her vote on the second paper
    alice.wait_for("Upvote (0)")
    alice.kill()
    out = run_once(database_url, fake_arxiv.url, "/queue\n/propose 1605.08386\n")
    queue = out.partition("Reading queue")[2].split("\n\n")[0]
    assert queue.count(TITLE) == 1 and "2 open proposals" in out
    assert "0 votes" in queue and "now has 2" in out


def test_sigkill_while_arxiv_is_down_keeps_the_proposal_and_completes_it(
    database_url: str, fake_arxiv: FakeArxiv
) -> None:
    fake_arxiv.fail(503)
    bob = LiveConsole(database_url, fake_arxiv.url, "bob")
    bob.send("/propose 1605.08386 keep me")
    bob.wait_for("Saved your proposal", timeout=60)
    bob.kill()
    fake_arxiv.reset()
    time.sleep(1)  # past the retry's back-off (READGROUP_ARXIV_REFETCH_SECONDS, doubled per try)
    out = run_once(database_url, fake_arxiv.url, "")
    assert "arXiv is back" in out and TITLE in out and "keep me" in out
    again = run_once(database_url, fake_arxiv.url, "/queue\n")
    assert again.count(TITLE) == 1 and "arXiv is back" not in again
