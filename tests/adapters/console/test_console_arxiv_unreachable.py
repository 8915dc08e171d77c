"""The console with arXiv unreachable (a closed loopback port): the user is
told at once that arXiv can't be reached, the proposal is kept, and log lines
stay off the chat output (stdout): one short line each on stderr, no traceback."""

from __future__ import annotations

from tests.adapters.console.test_console_cli import console
from tests.ports import free_port


def closed_port_url() -> str:
    return f"http://127.0.0.1:{free_port()}/api/query"


def test_propose_with_arxiv_unreachable_says_so_and_keeps_logs_off_the_chat(
    database_url: str,
) -> None:
    out = console(database_url, closed_port_url(), "/propose 1706.03762\n/queue\n")
    assert out.returncode == 0, out.stderr
    said, _, queue = out.stdout.partition("Reading queue")
    assert "Saved your proposal of arXiv:1706.03762" in said
    assert "can't reach arXiv" in said and "slow" not in said
    assert "arXiv:1706.03762" in queue  # kept
    for word in ("WARNING", "ERROR", "bot.papers.fetch", "NewConnectionError", "Traceback"):
        assert word not in out.stdout, word
    assert "Traceback" not in out.stderr
    assert all(len(line) < 250 for line in out.stderr.splitlines()), out.stderr
