"""The discussion thread and takeaways in the console: two people (two runs
with different --user) on one database reply in a session's thread, mark a
takeaway, and /takeaways shows it, as on Slack and Discord."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from tests.adapters.console.test_console_cli import console
from tests.fakes.arxiv_server import FakeArxiv

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _setup() -> str:
    # The console runs on the real clock: the first session is 5 days ahead,
    # before the presenter nudge and the pick deadline, so the presenter's
    # /present posts the card and opens the thread whatever today is.
    day = DAYS[(datetime.now(UTC) + timedelta(days=5)).weekday()]
    return (
        f'/readgroup config meeting "{day} 16:00 Europe/Berlin"\n'
        "/rotation add @alice @bob\n/propose 1605.08386\n/present 1605.08386\n"
    )


def _open_thread(database_url: str, fake_arxiv: FakeArxiv) -> None:
    """The organizer sets the group up; alice (first in the rotation) picks
    the paper, which posts its card and opens the session's thread."""
    out = console(database_url, fake_arxiv.url, _setup(), "--user", "alice")
    assert out.returncode == 0, out.stderr
    assert "posted its card in the channel with a thread" in out.stdout, out.stdout
    assert "`/reply <text>` or `> text` posts in this thread" in out.stdout


def test_two_users_reply_in_the_thread_and_mark_a_takeaway(
    database_url: str, fake_arxiv: FakeArxiv
) -> None:
    _open_thread(database_url, fake_arxiv)
    a = console(
        database_url, fake_arxiv.url, "/reply The proof in §3 is short\n", "--user", "alice"
    )
    assert a.returncode == 0, a.stderr
    assert "Posted as message 1 in the thread of" in a.stdout, a.stdout
    assert "Heat-bath random walks" in a.stdout
    b = console(database_url, fake_arxiv.url, "> Mixing time bound is the key\n", "--user", "bob")
    assert "Posted as message 2" in b.stdout, b.stdout
    script = "/thread\n/takeaway 2\n/thread\n/takeaways\n"
    a2 = console(database_url, fake_arxiv.url, script, "--user", "alice")
    assert a2.returncode == 0 and "Traceback" not in a2.stderr, a2.stderr
    first, _, rest = a2.stdout.partition("Marked message 2")
    assert "  1. alice: The proof in §3 is short" in first
    assert "  2. bob: Mixing time bound is the key" in first
    assert "2 messages, 0 marked 💡" in first
    assert "(bob: “Mixing time bound is the key”) as a takeaway 💡" in rest
    assert "  2. 💡 bob: Mixing time bound is the key" in rest
    takeaways = rest.partition("Takeaways:")[2]
    assert "• Mixing time bound is the key — @bob" in takeaways, rest
    assert "The proof in §3" not in takeaways
    assert "1 of 2 thread messages marked with 💡" in takeaways
    # bob's run sees alice's mark; he can take it back.
    b2 = console(database_url, fake_arxiv.url, "/unmark 2\n/takeaways\n", "--user", "bob")
    assert "Took the 💡 off message 2 (bob:" in b2.stdout, b2.stdout
    assert "None marked yet (2 messages in the thread)" in b2.stdout


def test_bad_thread_input_gets_clear_answers(database_url: str, fake_arxiv: FakeArxiv) -> None:
    early = console(database_url, fake_arxiv.url, "/reply Too early\n/thread\n/takeaway 1\n")
    assert early.returncode == 0, early.stderr
    assert early.stdout.count("No session has a discussion thread yet.") == 3, early.stdout
    assert "`/present <arXiv id>`" in early.stdout
    _open_thread(database_url, fake_arxiv)
    out = console(
        database_url,
        fake_arxiv.url,
        "/takeaway 1\n/reply\n>   \n/reply One point\n/takeaway 99\n/takeaway x\n/takeaway\n"
        "/unmark 1\n/takeaway 1\n/takeaway 1\n/thread someday\n",
        "--user",
        "bob",
    )
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    text = out.stdout
    assert "has no messages yet, so there is no message 1. `/reply <text>` posts one." in text
    assert text.count("Nothing to post: write the message after the command") == 2
    assert "There is no message 99: the thread has 1 message. `/thread` shows them" in text
    assert "`x` is not a message number. Give the number `/thread` shows" in text
    assert "Which message? Give the number" in text
    assert "Message 1 (bob: “One point”) is not marked as a takeaway." in text
    assert "Message 1 (bob: “One point”) is already a takeaway 💡." in text
    assert re.search(r"someday.*/thread 2026-11-19", text, re.S), text


def test_help_lists_the_console_thread_syntax(database_url: str, fake_arxiv: FakeArxiv) -> None:
    out = console(database_url, fake_arxiv.url, "/help\n")
    shared, _, own = out.stdout.partition("In this console")
    assert "/takeaways" in shared and "/reply" not in shared
    for line in ("/reply <text>", "> text", "/thread [date]", "/takeaway N", "/unmark N"):
        assert line in own, out.stdout
    # how to get a thread, where a takeaway goes, how to be a second person
    assert "opens when its paper is picked with /present" in own, own
    assert "takeaways show in /takeaways and in the digest" in own, own
    assert "readgroup console --user NAME" in own, own


def test_a_date_picks_an_older_sessions_thread_across_runs(
    database_url: str, fake_arxiv: FakeArxiv
) -> None:
    """Each run numbers its messages afresh: the thread a later run opens must
    not take the id of an earlier one, or replies land in the wrong session."""
    _open_thread(database_url, fake_arxiv)  # alice's session, 5 days ahead
    first_day = (datetime.now(UTC) + timedelta(days=5)).date().isoformat()
    out = console(
        database_url,
        fake_arxiv.url,
        "/propose 1707.08567\n/present 1707.08567\n/reply About the second paper\n"
        f"/thread {first_day}\n/reply About the first paper\n/thread\n/thread {first_day}\n",
        "--user",
        "bob",
    )
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    assert "posted its card in the channel with a thread" in out.stdout, out.stdout
    *_, latest, first = out.stdout.split("Discussion thread: ")
    assert "Heat-bath random walks" not in latest
    assert "  1. bob: About the second paper" in latest and "first paper" not in latest
    assert "Heat-bath random walks" in first
    assert "  1. bob: About the first paper" in first and "second paper" not in first
