"""Fuzzing each adapter's inbound translators with hypothesis: slash-command
form bodies, block_actions, view_submission and Events API payloads for Slack
(adapters/slack/inbound.py); application commands, button presses, modal
submissions, messages and reactions for Discord (adapters/discord/inbound.py,
on real ``discord.Interaction`` objects built by discord.py from the payload).

For every input: the translator either returns a core event or rejects the
payload explicitly (``None``), never raises; every translated command and
action gets at least one reply from the core; and no handler fails with a
traceback (the router would turn it into an apology, so we watch the log).
The core-only fuzzing (every command's text, every action's value, the
console) is in test_fuzz_commands.py."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import unicodedata
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode

import discord
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.discord import inbound
from adapters.discord.components import modal_fields
from adapters.discord.render import custom_id, parse_custom_id
from adapters.slack import inbound as slack_inbound
from adapters.slack import inbound_schema
from adapters.slack.render import action_id
from bot.app import Bot
from bot.chat.events import Action, Command, Event, Reaction, ThreadMessage
from bot.chat.replies import Reply
from tests.fakes.discord_fake import FakeDiscord

FUZZ = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
#: A /propose whose fetch finished after the handler stopped waiting may
#: answer later through the card post instead of a reply.
SILENT_OK = {"propose"}

ids = st.from_regex(r"[A-Z][A-Z0-9]{0,11}", fullmatch=True)
#: Devanagari and Thai, by their Unicode blocks (Python's ``re`` has no ``\p{sc=…}``).
_INDIC = ((0x0900, 0x097F), (0xA8E0, 0xA8FF), (0x0E00, 0x0E7F))


def discord_name(name: str) -> bool:
    """Discord's documented rule for command and option names,
    ``^[-_'\\p{L}\\p{N}\\p{sc=Deva}\\p{sc=Thai}]{1,32}$``, written out
    independently of the schema's pattern."""
    return 1 <= len(name) <= 32 and all(
        c in "-_'"
        or unicodedata.category(c)[0] in "LN"
        or any(lo <= ord(c) <= hi for lo, hi in _INDIC)
        for c in name
    )


#: Slack's id shape (inbound_schema.ID_PATTERN); others are rejected at the edge.
VALID_ID = re.compile(inbound_schema.ID_PATTERN.strip("^$"))
#: A command name Slack can send: "/" and 1 to 32 characters, no space or slash.
SLACK_COMMAND = re.compile(r"/[^\s/]{1,32}")
snowflakes = st.integers(10**15, 10**19)
junk = st.text(max_size=60)
# What people type: ids, links, Slack's link/mention syntax, dates, junk.
arg_text = st.one_of(
    st.text(max_size=200),
    st.from_regex(
        r"(https?://arxiv\.org/abs/)?[0-9]{4}\.[0-9]{4,5}(v[0-9])?( .{0,20})?", fullmatch=True
    ),
    st.from_regex(r"<https?://[a-z./0-9]{0,40}(\|[^<>]{0,20})?> ?.{0,30}", fullmatch=True),
    st.from_regex(
        r"(<@[A-Z0-9]{1,12}(\|[a-z]{1,8})?> ?){0,3}(<!here>|<!channel>)?.{0,20}", fullmatch=True
    ),
    st.from_regex(
        r"(join|leave|skip|swap|add|remove|show)?( <@U[0-9]{3}>)?"
        r"( [0-9]{4}-[0-9]{2}-[0-9]{2}){0,2}",
        fullmatch=True,
    ),
)
#: Button values: anything, and numbers around real ids. Numbers past 32 bits
#: are covered by test_every_action_answers_ids_no_database_can_hold below.
values = st.one_of(junk, st.integers(-5, 2**31 - 1).map(str))


class _Tracebacks(logging.Handler):
    """Collects every log record that carries a traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.records.append(record)


@pytest.fixture
def tracebacks() -> Iterator[_Tracebacks]:
    handler = _Tracebacks()
    logging.getLogger().addHandler(handler)
    yield handler
    logging.getLogger().removeHandler(handler)


@pytest.fixture
def fuzz_bot(bot: Bot, monkeypatch: pytest.MonkeyPatch) -> Bot:
    """Fuzzed ids must not wait long on arXiv fetches."""
    from bot.papers import fetch

    monkeypatch.setattr(fetch, "ARXIV_WAIT_SECONDS", 0.2)
    return bot


async def _core(bot: Bot, event: Event, is_admin: bool, tb: _Tracebacks) -> list[Reply]:
    """Hand a translated event to the core (as either kind of user); fail on
    any traceback logged meanwhile."""
    followups: list[Reply] = []

    async def respond(reply: Reply) -> None:
        followups.append(reply)

    event = dataclasses.replace(event, actor=dataclasses.replace(event.actor, is_admin=is_admin))
    before = len(tb.records)
    replies = [*await bot.handle(event, respond), *followups]
    failed = tb.records[before:]
    assert not failed, f"{event!r} raised: {failed[0].getMessage()}"
    if isinstance(event, Command) and event.name not in SILENT_OK:
        assert replies, f"/{event.name} {event.text!r} got no reply"
    if isinstance(event, Action):
        assert replies, f"action {event.kind!r} {event.value!r} got no reply"
    return replies


# ============================================================== Slack
def _form_roundtrip(fields: dict[str, str]) -> dict[str, str]:
    """What Bolt hands the listener for a form body (last value wins)."""
    return dict(parse_qsl(urlencode(fields), keep_blank_values=True))


@FUZZ
@given(data=st.data())
async def test_slack_slash_commands(
    fuzz_bot: Bot, tracebacks: _Tracebacks, data: st.DataObject
) -> None:
    name = data.draw(st.one_of(st.sampled_from(sorted(fuzz_bot.router.commands)), junk))
    fields = {
        "command": f"/{name}",
        "text": data.draw(arg_text),
        "user_id": data.draw(ids),
        "user_name": data.draw(junk),
        "team_id": data.draw(ids),
        "channel_id": data.draw(ids),
        "response_url": "https://hooks.slack.com/commands/T1/1/x",
        "trigger_id": "1.2.3",
    }
    for missing in data.draw(st.sets(st.sampled_from(["user_name", "text", "team_id"]))):
        del fields[missing]
    body = _form_roundtrip(fields)
    event = slack_inbound.command(body)
    if event is None:  # no valid ids or no command name: rejected explicitly
        assert inbound_schema.problem(body) is not None
        ids_given = (fields.get(k, "") for k in ("user_id", "team_id", "channel_id"))
        assert not all(VALID_ID.fullmatch(x) for x in ids_given) or not SLACK_COMMAND.fullmatch(
            fields["command"]
        )
        return
    assert isinstance(event, Command) and event.raw
    assert all(VALID_ID.fullmatch(x) for x in (event.actor.user_id, event.place.workspace))
    await _core(fuzz_bot, event, data.draw(st.booleans()), tracebacks)


def _container(data: st.DataObject) -> dict[str, Any]:
    return data.draw(
        st.fixed_dictionaries(
            {},
            optional={
                "container": st.fixed_dictionaries(
                    {"type": st.just("message")},
                    optional={"channel_id": ids, "message_ts": st.just("1700000000.000100")},
                ),
                "channel": st.fixed_dictionaries({"id": ids}),
                "message": st.fixed_dictionaries(
                    {"ts": st.just("1700000000.000100")},
                    optional={"thread_ts": st.just("1699999999.000100")},
                ),
                "team": st.one_of(st.none(), st.fixed_dictionaries({"id": ids})),
            },
        )
    )


@FUZZ
@given(data=st.data())
async def test_slack_block_actions(
    fuzz_bot: Bot, tracebacks: _Tracebacks, data: st.DataObject
) -> None:
    kind = data.draw(st.sampled_from(sorted(fuzz_bot.router.actions)))
    value = data.draw(values)
    aid = data.draw(st.one_of(st.just(action_id(kind, value)), st.just(kind), junk))
    actions = data.draw(
        st.one_of(
            st.just([{"action_id": aid, "value": value, "type": "button"}]),
            st.just([{"action_id": aid, "type": "button"}]),  # no value
            st.just([]),
        )
    )
    body = {
        "type": "block_actions",
        "user": {"id": data.draw(ids), "username": data.draw(junk), "team_id": data.draw(ids)},
        "actions": actions,
        "trigger_id": "1.2.3",
        **_container(data),
    }
    body = json.loads(json.dumps(body))
    event = slack_inbound.block_action(body)
    if not actions:
        assert event is None  # nothing pressed: rejected explicitly
        return
    if event is None:  # no valid team, user or channel id: rejected explicitly
        assert inbound_schema.problem(body) is not None
        return
    assert isinstance(event, Action)
    assert VALID_ID.fullmatch(event.place.channel) and VALID_ID.fullmatch(event.place.workspace)
    await _core(fuzz_bot, event, data.draw(st.booleans()), tracebacks)


def _meta_channel(meta: str) -> str:
    try:
        parsed = json.loads(meta)
    except ValueError:
        return ""
    return str(parsed.get("channel", "")) if isinstance(parsed, dict) else ""


@FUZZ
@given(data=st.data())
async def test_slack_view_submissions(
    fuzz_bot: Bot, tracebacks: _Tracebacks, data: st.DataObject
) -> None:
    kind = data.draw(st.one_of(st.sampled_from(sorted(fuzz_bot.router.actions)), junk))
    meta = data.draw(
        st.one_of(
            st.builds(lambda v, c: json.dumps({"value": v, "channel": c}), values, ids),
            junk,  # opened by something else: not JSON
            st.just(json.dumps([1, 2])),  # JSON, but not an object
        )
    )
    inputs = data.draw(
        st.dictionaries(
            junk,
            st.one_of(
                st.fixed_dictionaries(
                    {
                        "type": st.just("plain_text_input"),
                        "value": st.one_of(st.none(), st.text(max_size=300)),
                    }
                ),
                st.fixed_dictionaries(
                    {
                        "type": st.just("static_select"),
                        "selected_option": st.one_of(
                            st.none(), st.fixed_dictionaries({"value": junk})
                        ),
                    }
                ),
            ),
            max_size=3,
        )
    )
    body = {
        "type": "view_submission",
        "user": {"id": data.draw(ids), "name": data.draw(junk), "team_id": "T1"},
        "view": {
            "callback_id": kind,
            "private_metadata": meta,
            "state": {"values": {f"b{i}": {k: v} for i, (k, v) in enumerate(inputs.items())}},
        },
    }
    event = slack_inbound.view_submission(json.loads(json.dumps(body)))
    if event is None:  # not one of our forms (no channel to answer in), or a bad user id
        assert not (
            VALID_ID.fullmatch(body["user"]["id"])
            and kind
            and VALID_ID.fullmatch(_meta_channel(meta))
        )
        return
    assert isinstance(event, Action) and event.kind == kind
    assert len(event.fields) == len(inputs)
    await _core(fuzz_bot, event, data.draw(st.booleans()), tracebacks)


@FUZZ
@given(data=st.data())
async def test_slack_events(fuzz_bot: Bot, tracebacks: _Tracebacks, data: st.DataObject) -> None:
    kind = data.draw(
        st.sampled_from(
            [
                "message",
                "reaction_added",
                "reaction_removed",
                "app_mention",
                "member_joined_channel",
                "",
            ]
        )
    )
    user = data.draw(st.one_of(ids, st.just("UBOT"), st.none()))
    ev: dict[str, Any] = {"type": kind, "channel": data.draw(ids), "ts": "1700000001.000200"}
    if user is not None:
        ev["user"] = user
    if kind == "message":
        ev["text"] = data.draw(arg_text)
        ev.update(
            data.draw(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "thread_ts": st.sampled_from(["1700000000.000100", "1700000001.000200"]),
                        "subtype": st.sampled_from(
                            ["bot_message", "message_changed", "thread_broadcast", "channel_join"]
                        ),
                        "bot_id": st.just("B1"),
                    },
                )
            )
        )
    else:
        ev["reaction"] = data.draw(
            st.one_of(st.sampled_from(["bulb", "+1", "bulb::skin-tone-2"]), junk)
        )
        ev["item"] = data.draw(
            st.fixed_dictionaries(
                {"type": st.sampled_from(["message", "file"])},
                optional={"channel": ids, "ts": st.just("1700000000.000100")},
            )
        )
    body = {"type": "event_callback", "team_id": data.draw(ids), "event": ev, "event_id": "Ev1"}
    event = slack_inbound.event(json.loads(json.dumps(body)), bot_user_id="UBOT")
    if event is None:
        return  # not for the core (the bot itself, edits, top-level chatter): ignored
    assert isinstance(event, ThreadMessage | Reaction)
    assert event.actor.user_id not in ("", "UBOT")
    await _core(fuzz_bot, event, data.draw(st.booleans()), tracebacks)


# ============================================================== Discord
@pytest.fixture
def discord_state() -> Iterator[tuple[Any, FakeDiscord]]:
    """A discord.py connection state that knows the fake's guild, so the
    library builds real Interaction/Message objects from payloads."""
    client = discord.Client(intents=discord.Intents.default())
    state = client._connection
    fake = FakeDiscord()
    state.user = discord.ClientUser(state=state, data=fake.bot_user())  # type: ignore[arg-type]
    state._add_guild_from_data(fake._guild())  # type: ignore[arg-type]
    yield state, fake


def _discord_action(interaction: discord.Interaction, kind: str, value: str) -> Action:
    """As ReadgroupClient.handle_action builds it from a press or submission."""
    data: Any = interaction.data or {}
    return Action(
        kind=kind,
        value=value,
        actor=inbound.actor_from_interaction(interaction),
        place=inbound.place_from_interaction(interaction),
        fields=modal_fields(data),
        raw=data,
    )


PERMISSIONS = st.sampled_from([0, 32, 8, 1024 | 32])  # none, Manage Server, admin, both


@FUZZ
@given(data=st.data())
async def test_discord_application_commands(
    fuzz_bot: Bot,
    tracebacks: _Tracebacks,
    discord_state: tuple[Any, FakeDiscord],
    data: st.DataObject,
) -> None:
    state, fake = discord_state
    commands = fuzz_bot.router.commands
    name = data.draw(st.one_of(st.sampled_from(sorted(commands)), junk))
    spec = commands.get(name)
    declared = [o.name for o in spec.options] if spec else []
    names = data.draw(
        st.lists(st.one_of(st.sampled_from(declared or ["x"]), junk), max_size=3, unique=True)
    )
    options = {n: data.draw(arg_text) for n in names}
    payload = fake.slash(
        name, options, user_id=data.draw(snowflakes), permissions=data.draw(PERMISSIONS)
    )
    interaction = discord.Interaction(data=payload, state=state)  # type: ignore[arg-type]
    event = inbound.command_from_interaction(interaction, commands)
    if event is None:  # a name or option name Discord would never send: rejected explicitly
        assert not all(discord_name(n) for n in [name, *names])
        return
    assert event.name == name
    await _core(fuzz_bot, event, event.actor.is_admin, tracebacks)


@FUZZ
@given(data=st.data())
async def test_discord_buttons_and_modals(
    fuzz_bot: Bot,
    tracebacks: _Tracebacks,
    discord_state: tuple[Any, FakeDiscord],
    data: st.DataObject,
) -> None:
    state, fake = discord_state
    kind = data.draw(st.sampled_from(sorted(fuzz_bot.router.actions)))
    value = data.draw(st.text(max_size=30))
    try:
        ours: str | None = custom_id(kind, value)
    except ValueError:
        ours = None  # too long for Discord: we would never render it
    # Ours, or what a foreign component (or a forged payload) would carry.
    cid = data.draw(st.one_of(st.just(ours), junk) if ours else junk)
    user = data.draw(snowflakes)
    if data.draw(st.booleans()):
        message = fake._message(fake.channel_id, {"content": "card"})
        payload = fake.button(cid, message, user_id=user, permissions=data.draw(PERMISSIONS))
    else:
        inputs = data.draw(
            st.dictionaries(st.text(min_size=1, max_size=10), st.text(max_size=300), max_size=3)
        )
        payload = fake.modal_submit(cid, inputs, user_id=user)
    interaction = discord.Interaction(data=payload, state=state)  # type: ignore[arg-type]
    sent: Any = interaction.data or {}
    parsed = parse_custom_id(str(sent.get("custom_id", "")))
    if parsed is None:
        assert cid != ours, f"our own custom_id {cid!r} was not recognised"
        return  # not one of ours: rejected explicitly
    if cid == ours:
        assert parsed == (kind, value)
    event = _discord_action(interaction, *parsed)
    await _core(fuzz_bot, event, event.actor.is_admin, tracebacks)


@FUZZ
@given(data=st.data())
async def test_discord_thread_messages_and_reactions(
    fuzz_bot: Bot,
    tracebacks: _Tracebacks,
    discord_state: tuple[Any, FakeDiscord],
    data: st.DataObject,
) -> None:
    state, fake = discord_state
    guild = state._get_guild(fake.guild_id)
    channel = guild.get_channel(fake.channel_id)
    user = data.draw(snowflakes)
    if data.draw(st.booleans()):
        payload = fake.user_message(fake.channel_id, data.draw(arg_text), user_id=user)
        message = discord.Message(state=state, channel=channel, data=payload)  # type: ignore[arg-type]
        event: Event = inbound.thread_message(message, parent_id=fake.channel_id)
    else:
        emoji = data.draw(
            st.one_of(st.sampled_from(["💡", "👍", "🔥"]), st.text(min_size=1, max_size=4))
        )
        payload = fake.reaction(fake.channel_id, data.draw(snowflakes), emoji, user_id=user)
        if data.draw(st.booleans()):
            payload.pop("member")  # a reaction the gateway sends without the member
        raw = discord.RawReactionActionEvent(
            payload,  # type: ignore[arg-type]
            discord.PartialEmoji.from_dict(payload["emoji"]),
            data.draw(st.sampled_from(["REACTION_ADD", "REACTION_REMOVE"])),
        )
        event = inbound.reaction(raw, parent_id=data.draw(st.sampled_from([None, fake.channel_id])))
    assert event.actor.user_id == str(user)
    await _core(fuzz_bot, event, event.actor.is_admin, tracebacks)


# ============================================================== edge values
EDGE_VALUES = ["2147483648", "99999999999999999999", "-1", "0", "²", "١٢", " 7 ", ""]
"""Values no id column holds: past PostgreSQL's 32-bit ``serial`` (and past
64 bits, SQLite), non-positive, and digits that are not ASCII."""


def _edge_cases() -> list[Any]:
    from bot.app import build_router

    return [
        pytest.param(kind, value, id=f"{kind}-{value!r}")
        for kind in sorted(build_router().actions)
        for value in EDGE_VALUES
    ]


@pytest.mark.parametrize(("kind", "value"), _edge_cases())
async def test_every_action_answers_ids_no_database_can_hold(
    bot: Bot, tracebacks: _Tracebacks, kind: str, value: str
) -> None:
    """Values a button can come back with from an edited or hand-made payload:
    beyond PostgreSQL's integer, negative, non-ASCII digits. Found by the
    fuzzing above (a failed query and an apology instead of an answer)."""
    from bot.chat.events import Actor, Place

    event = Action(kind, value, Actor("slack", "U1"), Place("slack", "T1", "C1"))
    await _core(bot, event, False, tracebacks)
