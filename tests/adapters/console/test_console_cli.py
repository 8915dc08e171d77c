"""The console through the real `readgroup` entry point, as a user runs it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests import forkserver
from tests.fakes.arxiv_server import FAST_ENV, FakeArxiv

READGROUP = forkserver.READGROUP
TITLE = "Heat-bath random walks with Markov bases"


def console(
    database_url: str,
    arxiv_url: str,
    stdin: str,
    *args: str,
    timeout: float = 90,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "OPENAI_"))
    }
    env.update(FAST_ENV, DATABASE_URL=database_url, ARXIV_API_URL=arxiv_url)
    return forkserver.run(
        [str(READGROUP), "console", *args], input=stdin, env=env, timeout=timeout, cwd=cwd
    )


def test_propose_then_queue_shows_the_title_and_survives_a_restart(
    database_url: str, fake_arxiv: FakeArxiv
) -> None:
    first = console(
        database_url,
        fake_arxiv.url,
        "/propose https://arxiv.org/abs/1605.08386\n/queue\n",
        "--user",
        "alice",
    )
    assert first.returncode == 0, first.stderr
    propose_part, _, queue_part = first.stdout.partition("Reading queue")
    assert TITLE in propose_part and TITLE in queue_part
    assert "Traceback" not in first.stderr
    second = console(database_url, fake_arxiv.url, "/queue\n", "--user", "bob")
    assert (
        second.returncode == 0 and TITLE in second.stdout and "proposed by alice" in second.stdout
    )
    assert len(fake_arxiv.requests) == 1  # the second run read the database


def test_bad_input_and_unknown_commands_get_clear_answers(
    database_url: str, fake_arxiv: FakeArxiv
) -> None:
    out = console(database_url, fake_arxiv.url, "/propose nope\n/frob\nhello\n/press 99\n")
    assert out.returncode == 0
    assert '"nope" is not an arXiv paper' in out.stdout and "2401.01234" in out.stdout
    assert "I don't know the command /frob" in out.stdout and "/help" in out.stdout
    assert "Commands start with a slash" in out.stdout
    assert "No such button" in out.stdout


def test_buttons_can_be_pressed_in_the_console(database_url: str, fake_arxiv: FakeArxiv) -> None:
    out = console(
        database_url,
        fake_arxiv.url,
        "/propose 1605.08386\n/press 1\n/press 5\n",
        "--user",
        "bob",
        "--not-organizer",
    )
    assert out.returncode == 0, out.stderr
    assert "Upvote (1)" in out.stdout and "Upvote (0)" in out.stdout
    assert "Your vote was removed: Heat-bath random walks" in out.stdout
    assert "No such button: 5. This run has shown buttons 1 to 2 (each run numbers its own)" in (
        out.stdout
    )


def test_schedule_ics_is_written_to_a_file_and_the_console_says_where(
    database_url: str, fake_arxiv: FakeArxiv, tmp_path: Path
) -> None:
    script = '/readgroup config meeting "Thu 16:00 Europe/Berlin"\n/schedule ics\n'
    out = console(database_url, fake_arxiv.url, script, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    saved = tmp_path / "readgroup-schedule.ics"
    body = saved.read_text()
    assert body.startswith("BEGIN:VCALENDAR") and body.count("BEGIN:VEVENT") == 8
    assert f"Saved readgroup-schedule.ics to {saved.resolve()} (" in out.stdout
    assert "import readgroup-schedule.ics into your calendar app" in out.stdout
    assert "BEGIN:VCALENDAR" not in out.stdout and "DTSTART" not in out.stdout


def test_press_with_unicode_digits_or_garbage_answers_and_carries_on(
    database_url: str, fake_arxiv: FakeArxiv
) -> None:
    """'²'.isdigit() is True but int('²') raises: the console used to exit 1."""
    lines = ["/press ²", "/press ٣", "/press 1x", "/press", "/press " + "9" * 5000, "/help"]
    out = console(database_url, fake_arxiv.url, "\n".join(lines) + "\n")
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    assert "No such button: `²` is not a number. Buttons show their number" in out.stdout
    assert "No such button: `٣` is not a number." in out.stdout
    assert "No such button: `1x` is not a number." in out.stdout
    assert "Which button? Buttons show their number, e.g. `/press 1`." in out.stdout
    assert "No such button: 9999" in out.stdout
    # numbers of another run (or another user's console) are explained, not just refused
    assert "This console run has shown no buttons yet (each run numbers its own); `/queue`" in (
        out.stdout
    )
    assert "readgroup commands" in out.stdout  # the line after them still ran


@pytest.mark.slow
def test_arxiv_outage_is_reported_and_completed_on_the_next_run(
    database_url: str, fake_arxiv: FakeArxiv
) -> None:
    fake_arxiv.fail(503)  # until reset
    down = console(database_url, fake_arxiv.url, "/propose 1605.08386 worth it\n/queue\n")
    assert down.returncode == 0
    assert "Saved your proposal of arXiv:1605.08386" in down.stdout
    assert "arXiv:1605.08386" in down.stdout.partition("Reading queue")[2]
    assert "Traceback" not in down.stdout + down.stderr
    fake_arxiv.reset()
    # The retry is due after its back-off; a later run picks it up and posts the card.
    import time

    time.sleep(1)  # past READGROUP_ARXIV_REFETCH_SECONDS (doubled per try)
    up = console(database_url, fake_arxiv.url, "")
    assert up.returncode == 0, up.stderr
    assert "arXiv is back" in up.stdout and TITLE in up.stdout and "worth it" in up.stdout


def test_a_bad_setting_is_one_line_naming_it(tmp_path: Path) -> None:
    """A value the settings refuse is named with what it should be, not a
    pydantic traceback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'rg.db'}", READGROUP_LLM_CONCURRENCY="0")
    done = forkserver.run([str(READGROUP), "db", "upgrade"], env=env, timeout=60, cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("readgroup: READGROUP_LLM_CONCURRENCY=0 is not valid:")
    assert "greater than or equal to 1" in done.stderr and ".env.example" in done.stderr
