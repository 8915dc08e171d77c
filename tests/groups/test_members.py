"""Groups, members and the people named in commands, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from bot.chat.events import Actor, Place
from bot.groups.members import ensure_group, ensure_member, is_organizer
from bot.groups.mentions import (
    MentionRef,
    UnknownPerson,
    find_member,
    parse_mentions,
    resolve_member,
)
from bot.groups.places import channels_of
from storage.engine import session_scope
from storage.groups.tables import Group
from storage.schedule.tables import GroupSettings

T0 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
PLACE = Place("slack", "T1", "C1")


def test_organizer_sources() -> None:
    g = Group(platform="slack", workspace="T", channel="C", organizers=["U2"], created_at=T0)
    none: frozenset[str] = frozenset()
    admin = Actor("slack", "U1", is_admin=True)
    assert is_organizer(actor=admin, group=g, configured=none, workspace="T")
    assert is_organizer(actor=Actor("slack", "U2"), group=g, configured=none, workspace="T")
    u3, u4 = Actor("slack", "U3"), Actor("slack", "U4")
    assert is_organizer(actor=u3, group=g, configured=frozenset({"U3"}), workspace="T")
    assert not is_organizer(actor=u4, group=g, configured=frozenset({"U3"}), workspace="T")
    # an admin of another workspace (or platform) organizes nothing here
    assert not is_organizer(actor=admin, group=g, configured=none, workspace="T2")
    discord_admin = Actor("discord", "U1", is_admin=True)
    assert not is_organizer(actor=discord_admin, group=g, configured=none, workspace="T")


def test_mentions_in_every_platform_syntax() -> None:
    refs = parse_mentions("<@U123> <@U456|bob> <@789> <@!42> @carol dave")
    assert [(r.user_id, r.name, r.exact) for r in refs] == [
        ("U123", "", True),
        ("U456", "bob", True),
        ("789", "", True),
        ("42", "", True),
        ("carol", "carol", False),
        ("dave", "dave", False),
    ]


def test_group_and_member_are_created_once_and_the_name_kept_fresh(engine: sa.Engine) -> None:
    with session_scope(engine) as session:
        g1 = ensure_group(session=session, place=PLACE, now=T0)
        m1 = ensure_member(
            session=session, actor=Actor("slack", "U1", "Ada"), workspace="T1", now=T0
        )
        session.flush()
        g2 = ensure_group(session=session, place=PLACE, now=T0)
        m2 = ensure_member(
            session=session, actor=Actor("slack", "U1", "Ada L."), workspace="T1", now=T0
        )
        assert (g1.id, m1.id) == (g2.id, m2.id)
        other = ensure_group(session=session, place=Place("slack", "T1", "C2"), now=T0)
        assert other.id != g1.id
    with session_scope(engine) as session:
        found = find_member(session=session, user_id="U1", platform="slack", workspace="T1")
        assert found is not None and found.name == "Ada L."
        assert find_member(session=session, user_id="U1", platform="slack", workspace="T2") is None


def test_a_typed_name_finds_the_one_member_of_that_name(engine: sa.Engine) -> None:
    with session_scope(engine) as session:
        for uid, name in [("U1", "Ada"), ("U2", "Bob"), ("U3", "bob")]:
            ensure_member(session=session, actor=Actor("slack", uid, name), workspace="T1", now=T0)
        ensure_member(session=session, actor=Actor("slack", "U9", "Cy"), workspace="T2", now=T0)
    with session_scope(engine) as session:

        def resolve(name: str):  # type: ignore[no-untyped-def]
            ref = MentionRef(name, name, False)
            return resolve_member(
                session=session, ref=ref, platform="slack", workspace="T1", now=T0
            )

        assert resolve("ADA").user_id == "U1"
        assert resolve("U2").user_id == "U2"  # an id typed by hand
        with pytest.raises(UnknownPerson, match="Several people"):
            resolve("bob")
        with pytest.raises(UnknownPerson, match="don't know anyone"):
            resolve("Cy")  # another workspace's member


def test_buttons_belong_to_the_channel_and_the_announcement_channel(engine: sa.Engine) -> None:
    with session_scope(engine) as session:
        group = ensure_group(session=session, place=PLACE, now=T0)
        session.flush()
        assert channels_of(session=session, group=group) == {"C1"}
        assert group.id is not None
        session.add(GroupSettings(group_id=group.id, announce_channel="C9", updated_at=T0))
        session.flush()
        assert channels_of(session=session, group=group) == {"C1", "C9"}
