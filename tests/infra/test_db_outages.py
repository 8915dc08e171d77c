"""`Bot.db` waits out a database outage but not an error that will repeat
(a query too complex, a statement timeout); /history searches for at most
10 words and says so. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import sqlite3
import time

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from bot.app import Bot
from bot.chat.events import Actor, Command, Place
from bot.chat.replies import Reply, to_plain

PLACE = Place("console", "local", "general")


async def run(bot: Bot, text: str) -> list[Reply]:
    name, _, rest = text.lstrip("/").partition(" ")

    async def no_followup(reply: Reply) -> None:
        raise AssertionError(reply)

    return await bot.handle(
        Command(name, rest, Actor("console", "alice", "Alice"), PLACE), no_followup
    )


async def test_history_with_a_thousand_words_answers_at_once_and_names_what_it_left_out(
    bot: Bot,
) -> None:
    await run(bot, "/propose 1605.08386")
    words = ["markov", "bases", *(f"w{n}" for n in range(998))]
    started = time.monotonic()
    [reply] = await asyncio.wait_for(run(bot, "/history " + " ".join(words)), 20)
    assert time.monotonic() - started < 10
    said = to_plain(reply)
    assert "first 10 words" in said and "990 words" in said and "w8 w9" in said
    found = to_plain((await run(bot, "/history markov bases"))[0])
    assert "Heat-bath" in found


async def test_an_operational_error_that_is_not_an_outage_fails_at_once(bot: Bot) -> None:
    calls = 0
    postgres = bot.engine.dialect.name == "postgresql"

    def bad_query(*, session):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        if postgres:  # QueryCanceled (57014) is an OperationalError that repeats
            session.execute(sa.text("SET LOCAL statement_timeout = '1ms'"))
            session.execute(sa.text("SELECT pg_sleep(0.2)"))
        else:  # sqlite3.OperationalError, as for "Expression tree is too large"
            session.execute(sa.text("SELECT * FROM no_such_table"))

    started = time.monotonic()
    with pytest.raises(OperationalError):
        await asyncio.wait_for(bot.db(bad_query), 10)
    assert calls == 1 and time.monotonic() - started < 5


async def test_a_locked_or_lost_database_is_still_waited_out(bot: Bot) -> None:
    errors = [
        OperationalError("SELECT 1", {}, sqlite3.OperationalError("database is locked")),
        OperationalError("SELECT 1", {}, psycopg.OperationalError("connection refused")),
    ]

    def flaky(*, session):  # type: ignore[no-untyped-def]
        if errors:
            raise errors.pop(0)
        return session.execute(sa.text("SELECT 1")).scalar()

    assert await asyncio.wait_for(bot.db(flaky), 10) == 1


def test_outage_classification() -> None:
    from bot.infra.db_outage import is_outage

    def op(orig: BaseException, invalidated: bool = False) -> OperationalError:
        return OperationalError("SELECT 1", {}, orig, connection_invalidated=invalidated)

    assert is_outage(op(sqlite3.OperationalError("database is locked")))
    assert not is_outage(op(sqlite3.OperationalError("Expression tree is too large")))
    assert not is_outage(op(sqlite3.OperationalError("no such table: x")))
    assert is_outage(op(psycopg.errors.AdminShutdown("terminating connection")))
    assert is_outage(op(psycopg.errors.CannotConnectNow("starting up")))
    assert is_outage(op(psycopg.OperationalError("server closed the connection")))
    assert not is_outage(op(psycopg.errors.StatementTooComplex("stack depth limit exceeded")))
    assert not is_outage(op(psycopg.errors.QueryCanceled("statement timeout")))
    assert is_outage(op(psycopg.errors.StatementTooComplex("x"), invalidated=True))
