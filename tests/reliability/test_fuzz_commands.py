"""Fuzzing every command's text and every action payload through the core and
the console translator: no unhandled exception, and every input gets a reply."""

from __future__ import annotations

import asyncio
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.console.app import Console
from bot.app import Bot
from bot.chat.events import Action, Actor, Command, Place
from bot.chat.replies import Reply

PLACE = Place("console", "local", "general")
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
# Text that looks like what people paste: ids, links, Slack wrappers, mentions, junk.
arg_text = st.one_of(
    st.text(max_size=200),
    st.from_regex(
        r"(https?://)?(www\.)?arxiv\.org/(abs|pdf|html)/[0-9]{4}\.[0-9]{4,5}(v[0-9])?",
        fullmatch=True,
    ),
    st.from_regex(r"<https?://[a-z./0-9]{0,40}(\|[^<>]{0,20})?> ?.{0,30}", fullmatch=True),
    st.from_regex(
        r"(<@[A-Z0-9]{1,12}> ?){0,3}(next week|[0-9]{4}-[0-9]{2}-[0-9]{2})?", fullmatch=True
    ),
)


async def _collect(bot: Bot, event: Command | Action) -> list[Reply]:
    followups: list[Reply] = []

    async def respond(reply: Reply) -> None:
        followups.append(reply)

    return [*await bot.handle(event, respond), *followups]


@pytest.fixture
def fuzz_bot(bot: Bot, monkeypatch: pytest.MonkeyPatch) -> Bot:
    """Fuzzed ids must not wait long on arXiv fetches."""
    from bot.papers import fetch

    monkeypatch.setattr(fetch, "ARXIV_WAIT_SECONDS", 0.2)
    return bot


@FUZZ
@given(data=st.data())
async def test_every_command_answers_any_text(fuzz_bot: Bot, data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(fuzz_bot.router.commands)))
    text = data.draw(arg_text)
    replies = await _collect(fuzz_bot, Command(name, text, Actor("console", "fuzzer"), PLACE))
    silent_ok = {"propose"}  # a fetch that finished late may answer with an empty list
    assert replies or name in silent_ok, f"/{name} {text!r} got no reply"


@FUZZ
@given(data=st.data())
async def test_every_action_answers_any_value(fuzz_bot: Bot, data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(sorted(fuzz_bot.router.actions)))
    value = data.draw(st.one_of(st.text(max_size=40), st.integers(-5, 10**12).map(str)))
    fields = tuple(
        data.draw(st.lists(st.tuples(st.text(max_size=10), st.text(max_size=200)), max_size=3))
    )
    event = Action(kind, value, Actor("console", "fuzzer"), PLACE, fields=fields)
    assert await _collect(fuzz_bot, event), f"action {kind} {value!r} got no reply"


@FUZZ
@given(line=st.text(max_size=200))
async def test_console_answers_every_line(fuzz_bot: Bot, line: str) -> None:
    out = io.StringIO()
    console = Console(fuzz_bot, user="fuzzer", organizer=True, out=out)
    try:
        await asyncio.wait_for(console.run_line(line), 10)
    except EOFError:
        assert line.strip() in {"/quit", "/exit"} or line.strip().startswith(("/quit ", "/exit "))
        return
    if line.strip() and not line.strip().startswith("#"):
        assert out.getvalue().strip(), f"no output for {line!r}"


# Button numbers as people (and keyboards) type them: unicode digits such as
# "²" or "٣" pass str.isdigit() but not int(), and huge numbers int() refuses.
press_arg = st.one_of(
    st.text(st.characters(categories=["Nd", "No", "Nl"]), min_size=1, max_size=8),
    st.text(max_size=20),
    st.integers(-5, 10**30).map(str),
    st.just("9" * 5000),
)


@FUZZ
@given(arg=press_arg)
async def test_console_press_answers_any_argument(fuzz_bot: Bot, arg: str) -> None:
    out = io.StringIO()
    console = Console(fuzz_bot, user="fuzzer", organizer=True, out=out)
    await asyncio.wait_for(console.run_line(f"/press {arg}"), 10)
    assert "button" in out.getvalue().lower(), f"no answer for /press {arg!r}"
