"""`readgroup serve slack|discord` when the platform's API cannot be reached
(a closed loopback port; a host under .invalid, which never resolves, so no
traffic leaves the machine): one clear line naming the host and what to
check, exit status 2, no traceback. The database is set up first, so this
runs on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests import forkserver
from tests.ports import free_port

READGROUP = forkserver.READGROUP


def serve(database_url: str, platform: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "OPENAI_"))
    }
    base.update(DATABASE_URL=database_url, ARXIV_API_URL=f"http://127.0.0.1:{free_port()}/")
    base.update(env)
    args = ["--http", "--port", "0"] if platform == "slack" else []
    return forkserver.run([str(READGROUP), "serve", platform, *args], env=base, timeout=90)


#: Each run waits ~1.5-3.5 s on the platform client's connection retries, not
#: on the CPU: started early beside the other waiting tests (tests/conftest.py),
#: they no longer end the run.
pytestmark = pytest.mark.slow(seconds=3, waits=True)

CASES = {
    "refused": (lambda: f"http://127.0.0.1:{free_port()}", "connection to 127.0.0.1:"),
    "no-dns": (lambda: "http://nonexistent.invalid", "host name nonexistent.invalid"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_serve_slack_without_a_reachable_api_says_so_in_one_line(
    database_url: str, case: str
) -> None:
    make_url, why = CASES[case]
    url = make_url() + "/api/"
    out = serve(
        database_url,
        "slack",
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET="secret",
        SLACK_API_URL=url,
    )
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr and "ClientConnector" not in out.stderr
    [line] = [x for x in out.stderr.splitlines() if x.startswith("readgroup:")]
    assert "can't reach Slack" in line and why in line and "SLACK_API_URL" in line
    assert url in line
    # SLACK_BOT_TOKEN is in the environment: Bolt's notice that the token
    # "will be unused" (it is our client's) is not shown.
    assert "will be unused" not in out.stderr, out.stderr


@pytest.mark.parametrize("case", sorted(CASES))
def test_serve_discord_without_a_reachable_api_says_so_in_one_line(
    database_url: str, case: str
) -> None:
    make_url, why = CASES[case]
    url = make_url() + "/api/v10"
    out = serve(database_url, "discord", DISCORD_TOKEN="test-token", DISCORD_API_URL=url)
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr and "ClientConnector" not in out.stderr
    [line] = [x for x in out.stderr.splitlines() if x.startswith("readgroup:")]
    assert "can't reach Discord" in line and why in line and "DISCORD_API_URL" in line
