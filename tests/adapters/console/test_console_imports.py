"""`readgroup console` answering /help loads only what that needs: not the
LLM, migrations, a platform's SDK, arXiv's client (the arxiv package,
requests, lxml), Jinja, YAML or pylatexenc; each is loaded when a command
first uses it (the first paper proposed loads arXiv's client, and works).
Checked in a fresh interpreter, since this test process has imported
everything."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from storage.engine import make_engine, upgrade
from tests.fakes.arxiv_server import FakeArxiv
from tests.lazy_imports import AT_FIRST_USE

UNNEEDED = (*AT_FIRST_USE, "slack_bolt", "discord")
PROBE = """
import json, sys
from adapters.cli import main
rc = main(["console", "--user", "ada"])
print("MODULES " + json.dumps(sorted(sys.modules)))
sys.exit(rc)
"""


#: The digest's modules: registered for /help by bot.digest.routes, loaded
#: when /digest or one of its buttons is first used.
DIGEST = ("bot.digest.commands", "bot.digest.publishing", "storage.digest.tables")


def _console(tmp_path: Path, arxiv_url: str, lines: str) -> tuple[str, set[str]]:
    out, modules = _console_modules(tmp_path, arxiv_url, lines)
    return out, {m.split(".")[0] for m in modules}


def _console_modules(tmp_path: Path, arxiv_url: str, lines: str) -> tuple[str, set[str]]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))},
        "DATABASE_URL": f"sqlite:///{tmp_path / 'console.db'}",
        "ARXIV_API_URL": arxiv_url,
        "READGROUP_ARXIV_INTERVAL_SECONDS": "0",
        "OPENAI_API_KEY": "",
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        input=lines,
        env=env,
        cwd=tmp_path,  # no project .env
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out, _, modules = done.stdout.rpartition("MODULES ")
    return out, set(json.loads(modules))


def test_console_help_loads_no_unneeded_package(tmp_path: Path) -> None:
    upgrade(make_engine(f"sqlite:///{tmp_path / 'console.db'}"))  # from an earlier start
    out, modules = _console_modules(tmp_path, "http://127.0.0.1:9/api/query", "/help\n")
    loaded = {m.split(".")[0] for m in modules}
    assert "/propose" in out
    assert loaded.isdisjoint(UNNEEDED), sorted(loaded & set(UNNEEDED))
    # On SQLite, SQLAlchemy's PostgreSQL dialect is not loaded either (storage.columns).
    assert "sqlalchemy.dialects.postgresql" not in modules


def test_the_first_proposal_loads_arxivs_client_and_gets_its_card(
    tmp_path: Path, fake_arxiv: FakeArxiv
) -> None:
    paper = fake_arxiv.known_ids()[0].split("v")[0]
    out, loaded = _console(tmp_path, fake_arxiv.url, f"/propose {paper}\n/queue\n")
    assert {"arxiv", "requests", "lxml"} <= loaded
    assert paper in out


def test_help_leaves_the_digest_unloaded_and_digest_loads_it(tmp_path: Path) -> None:
    upgrade(make_engine(f"sqlite:///{tmp_path / 'console.db'}"))
    out, loaded = _console_modules(tmp_path, "http://127.0.0.1:9/api/query", "/help\n")
    assert "/digest" in out
    assert loaded.isdisjoint(DIGEST), sorted(loaded & set(DIGEST))
    out, loaded = _console_modules(tmp_path, "http://127.0.0.1:9/api/query", "/digest\n")
    assert set(DIGEST) - {"bot.digest.publishing"} <= loaded
    assert "Nothing to draft for" in out, out[-1500:]  # the handler ran, from its module
