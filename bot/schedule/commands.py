"""/readgroup config and skip, /rotation, /away, /schedule, /present, and the
``present_pick`` button of the presenter nudge.

Every change recomputes the group's sessions and presenters in the same
transaction (so the reply shows the new plan) and wakes the scheduler (so
reminders follow at once).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from bot.chat.dates import WEEKDAY_NAMES, DateError, parse_day, parse_period
from bot.chat.events import Action, Command
from bot.chat.markup import bold, esc, link, mention
from bot.chat.plural import plural
from bot.chat.replies import Attachment, Context, Fields, Header, Reply, Text, error, say
from bot.chat.router import Option, Router
from bot.groups.context import Who, resolve, row_id, split_first
from bot.groups.mentions import UnknownPerson, parse_mentions, resolve_member, unknown_person
from bot.infra.arxiv_ref import InvalidReference, parse_ref
from bot.infra.clock import as_utc
from bot.infra.runtime import Ctx
from bot.papers import proposals as proposals_svc
from bot.papers.cards import abs_url, title_of
from bot.papers.fetch import ARXIV_WAIT_SECONDS, fetch_paper
from bot.papers.proposals import proposal_owner
from bot.schedule import meetings as sched
from bot.schedule import present_check, rotation, session_card
from bot.schedule.calendar import export_ics
from bot.schedule.reminders import PRESENT_PICK, offset_label, refresh_group, when_text
from bot.schedule.scheduler import changed
from storage.groups.tables import Member
from storage.papers.tables import ProposalStatus
from storage.schedule.tables import GroupSettings, MeetingSession

log = logging.getLogger(__name__)

SCHEDULE_SHOWN = 4
CONFIG_KEYS = (
    "meeting",
    "duration",
    "reminders",
    "nudge",
    "deadline",
    "takeaways",
    "channel",
    "organizers",
)
ICS_NAME = "readgroup-schedule.ics"
SKIP_EXAMPLES = "`/readgroup skip 2026-12-24` or `/readgroup skip next thursday`"
NO_MEETING = (
    "This group has no meeting time yet. An organizer sets it with "
    f"`{sched.MEETING_EXAMPLE}` (weekday, local time, IANA time zone)."
)


def register(router: Router) -> None:
    router.command(
        "readgroup",
        summary="Group settings: show them, or (organizers) change one; skip a date.",
        example=sched.MEETING_EXAMPLE,
        options=(
            Option("what", "config or skip", required=True, choices=("config", "skip")),
            Option("setting", 'e.g. meeting "Thu 16:00 Europe/Berlin", or a date to skip'),
        ),
    )(readgroup)
    router.command(
        "rotation",
        summary="The presenter rotation: join, leave, add/remove @user, swap @a @b, skip.",
        example="/rotation swap @alice @bob",
        options=(
            Option(
                "action",
                "join, leave, add, remove, swap or skip",
                choices=("join", "leave", "add", "remove", "swap", "skip"),
            ),
            Option("people", "who, e.g. @alice (swap takes two)", autocomplete="members"),
        ),
    )(rotation_cmd)
    router.command(
        "away",
        summary="Mark yourself away so the rotation passes you over (or `clear`).",
        example="/away 2026-12-01 2026-12-14",
        options=(Option("dates", "FROM TO, or words like next week, tomorrow"),),
    )(away)
    router.command(
        "schedule",
        summary="The next sessions with presenter and paper; `ics` gives a calendar.",
        example="/schedule",
        options=(Option("format", "ics for a calendar file", choices=("ics",)),),
    )(show_schedule)
    router.command(
        "present",
        summary="Pick the paper for your next session (presenter or organizer).",
        example="/present 1706.03762",
        options=(
            Option(
                "paper",
                "arXiv link or id, from the queue or new",
                required=True,
                autocomplete="open_proposals",
            ),
        ),
    )(present)
    # the nudge is a direct message: the button may be pressed there too
    router.action(PRESENT_PICK, owner=proposal_owner, direct=True)(present_pick)


# --- helpers ------------------------------------------------------------------


async def _in_group(ctx: Ctx, fn: Callable[..., Any], **kwargs: Any) -> Any:
    """Run ``fn(session=, who=, now=, **kwargs)`` in one transaction with the
    actor's group and member resolved."""
    bot, ev = ctx.bot, ctx.event
    assert isinstance(ev, Command | Action)
    now = bot.clock.now()

    def work(*, session: Session) -> Any:
        who = resolve(
            session=session, actor=ev.actor, place=ev.place, settings=bot.settings, now=now
        )
        return fn(session=session, who=who, now=now, **kwargs)

    return await bot.db(work)


def _gid(who: Who) -> int:
    assert who.group.id is not None
    return who.group.id


def _name(member: Member | None) -> str:
    if member is None:
        return "_nobody available_"
    return mention(member.user_id)


def _tz(cfg: GroupSettings):  # type: ignore[no-untyped-def]
    return sched.zone(cfg.timezone or "UTC")


def _today(cfg: GroupSettings, now: datetime) -> date:
    return as_utc(now).astimezone(_tz(cfg)).date()


# --- /readgroup ---------------------------------------------------------------


async def readgroup(ctx: Ctx) -> Reply:
    cmd = ctx.event
    assert isinstance(cmd, Command)
    sub, rest = split_first(cmd.text)
    sub = sub.lower()
    if sub in ("", "config", "settings"):
        key, value = split_first(rest)
        if not key:
            return await _in_group(ctx, _show_config)
        reply = await _in_group(ctx, _set_config, key=key.lower(), value=value)
        changed(ctx.bot)
        return reply
    if sub == "skip":
        reply = await _in_group(ctx, _skip_date, text=rest)
        changed(ctx.bot)
        return reply
    return error(
        f"`/readgroup {esc(sub)}` is not something I know. Use `/readgroup config` to see the "
        f"settings, `{sched.MEETING_EXAMPLE}` to set the meeting, or `/readgroup skip "
        "2026-12-24` to cancel a session."
    )


def _config_reply(session: Session, who: Who, now: datetime, note: str = "") -> Reply:
    cfg = sched.get_settings(session=session, group_id=_gid(who), now=now)
    rule = sched.rule_of(cfg)
    organizers = ", ".join(mention(u) for u in who.group.organizers or []) or (
        "_workspace admins only_"
    )
    reminders = ", ".join(
        f"{offset_label(m)} before" for m in sorted(cfg.reminder_minutes or [], reverse=True)
    )
    pairs = (
        ("Meeting", esc(rule.describe()) if rule else "_not set_"),
        ("Duration", f"{cfg.duration_minutes} min"),
        ("Channel reminders", reminders or "_none_"),
        ("Presenter nudge", f"{plural(cfg.nudge_days, 'day')} before, by direct message"),
        ("Pick deadline", f"{cfg.pick_deadline_hours} h before"),
        ("Takeaways prompt", f"{offset_label(cfg.takeaways_after_minutes)} after the start"),
        (
            "Announcements",
            f"#{esc(cfg.announce_channel)}" if cfg.announce_channel else "this channel",
        ),
        ("Organizers", organizers),
        ("Skipped dates", esc(", ".join(sorted(cfg.skip_dates or []))) or "_none_"),
    )
    blocks: list[object] = []
    if note:
        blocks.append(Text(note))
    blocks += [Header("Reading group settings"), Fields(pairs)]
    blocks.append(
        Context(
            "Organizers change a setting with `/readgroup config <key> <value>`; keys: "
            + ", ".join(f"`{k}`" for k in CONFIG_KEYS)
            + f". Example: `{sched.MEETING_EXAMPLE}`."
        )
    )
    return Reply(blocks=tuple(blocks), private=True)  # type: ignore[arg-type]


def _show_config(*, session: Session, who: Who, now: datetime) -> Reply:
    return _config_reply(session, who, now)


_CHANNEL = re.compile(r"<#([A-Za-z0-9]+)(?:\|[^>]*)?>")


def _set_config(*, session: Session, who: Who, now: datetime, key: str, value: str) -> Reply:
    if not who.organizer:
        return error(
            "Only organizers change the settings; `/readgroup config` shows them to everyone. "
            "Ask an organizer, or a workspace admin, to make you one."
        )
    if key not in CONFIG_KEYS:
        return error(
            f"`{esc(key)}` is not a setting. Use one of "
            + ", ".join(f"`{k}`" for k in CONFIG_KEYS)
            + f", e.g. `{sched.MEETING_EXAMPLE}`."
        )
    value = value.strip().strip("\"'“”").strip()
    examples = {
        "meeting": sched.MEETING_EXAMPLE,
        "duration": "/readgroup config duration 90m",
        "reminders": "/readgroup config reminders 24h 1h",
        "nudge": "/readgroup config nudge 3d",
        "deadline": "/readgroup config deadline 48h",
        "takeaways": "/readgroup config takeaways 1h",
        "channel": "/readgroup config channel #reading-group",
        "organizers": "/readgroup config organizers @alice @bob",
    }
    if not value:
        return error(f"Give a value too, for example `{examples[key]}`.")
    cfg = sched.get_settings(session=session, group_id=_gid(who), now=now)
    try:
        note = _apply(session, who, cfg, key, value, now)
    except (sched.ScheduleError, UnknownPerson) as exc:
        return error(f"{esc(str(exc))}\nExample: `{examples[key]}`.")
    cfg.updated_at = now
    session.add(cfg)
    session.flush()
    refresh_group(session=session, group_id=_gid(who), now=now)
    reply = _config_reply(session, who, now, note)
    return Reply(blocks=reply.blocks, private=False)


def _apply(
    session: Session, who: Who, cfg: GroupSettings, key: str, value: str, now: datetime
) -> str:
    """Change one setting; returns the note for the reply."""
    if key == "meeting":
        if value.lower() in {"off", "none"}:
            cfg.meeting_weekday, cfg.meeting_time, cfg.timezone = None, "", ""
            return "Meeting time cleared: no sessions or reminders until it is set again."
        rule = sched.parse_meeting(value)
        cfg.meeting_weekday, cfg.meeting_time = rule.weekday, f"{rule.at:%H:%M}"
        cfg.timezone = rule.tz.key
        return f"The group meets every {bold(esc(rule.describe()))}."
    if key == "duration":
        minutes = sched.parse_duration(value)
        if not 10 <= minutes <= 8 * 60:
            raise sched.ScheduleError("A session lasts between 10 minutes and 8 hours.")
        cfg.duration_minutes = minutes
        return f"Sessions last {minutes} minutes."
    if key == "reminders":
        if value.lower() in {"off", "none"}:
            cfg.reminder_minutes = []
            return "Channel reminders are off."
        offsets = sorted(
            {sched.parse_duration(v, unit="h") for v in value.replace(",", " ").split()},
            reverse=True,
        )
        if any(m <= 0 or m > 14 * 24 * 60 for m in offsets) or len(offsets) > 4:
            raise sched.ScheduleError("Give up to four reminders between 1 minute and 14 days.")
        cfg.reminder_minutes = offsets
        return "Channel reminders: " + ", ".join(offset_label(m) for m in offsets) + " before."
    if key == "nudge":
        minutes = sched.parse_duration(value, unit="d")
        if minutes % (24 * 60) or not 1 <= minutes // (24 * 60) <= 14:
            raise sched.ScheduleError("The presenter nudge is 1 to 14 whole days before.")
        cfg.nudge_days = minutes // (24 * 60)
        return f"Presenters get a nudge {plural(cfg.nudge_days, 'day')} before."
    if key == "deadline":
        minutes = sched.parse_duration(value, unit="h")
        if minutes % 60 or not 1 <= minutes // 60 <= 14 * 24:
            raise sched.ScheduleError("The pick deadline is 1 to 336 whole hours before.")
        cfg.pick_deadline_hours = minutes // 60
        return f"Papers must be picked {cfg.pick_deadline_hours} h before."
    if key == "takeaways":
        minutes = sched.parse_duration(value, unit="m")
        if not 0 <= minutes <= 24 * 60:
            raise sched.ScheduleError("The takeaways prompt comes 0 to 24 hours after the start.")
        cfg.takeaways_after_minutes = minutes
        return f"The takeaways prompt comes {offset_label(minutes)} after the start."
    if key == "channel":
        m = _CHANNEL.fullmatch(value)
        channel = m.group(1) if m else value.lstrip("#")
        if not re.fullmatch(r"[A-Za-z0-9_.\-]{1,64}", channel):
            raise sched.ScheduleError(f"`{value}` is not a channel. Link it with #.")
        cfg.announce_channel = "" if channel.lower() in {"here", "this"} else channel
        return "Announcements go to " + (
            f"#{esc(channel)}." if cfg.announce_channel else "this channel."
        )
    if key == "organizers":
        refs = parse_mentions(value)
        if not refs:
            raise sched.ScheduleError("Name at least one organizer with @.")
        ids: list[str] = []
        for ref in refs:
            member = resolve_member(
                session=session,
                ref=ref,
                platform=who.group.platform,
                workspace=who.group.workspace,
                now=now,
            )
            if member.user_id not in ids:
                ids.append(member.user_id)
        who.group.organizers = ids
        session.add(who.group)
        return "Organizers: " + ", ".join(mention(u) for u in ids) + "."
    raise AssertionError(key)


def _skip_date(*, session: Session, who: Who, now: datetime, text: str) -> Reply:
    if not who.organizer:
        return error("Only organizers cancel sessions. Ask an organizer to run `/readgroup skip`.")
    cfg = sched.get_settings(session=session, group_id=_gid(who), now=now)
    if sched.rule_of(cfg) is None:
        return error(NO_MEETING)
    try:
        first = parse_day(text, today=_today(cfg, now), examples=SKIP_EXAMPLES)
    except DateError as exc:
        return error(str(exc))
    rule = sched.rule_of(cfg)
    assert rule is not None
    if first.weekday() != rule.weekday:
        return error(
            f"The group meets on {WEEKDAY_NAMES[rule.weekday]}s; {first} is a "
            f"{WEEKDAY_NAMES[first.weekday()]}. Give a meeting date, e.g. the ones "
            "`/schedule` lists."
        )
    if first < _today(cfg, now):
        return error(f"{first} is in the past. Give an upcoming meeting date from `/schedule`.")
    day = first.isoformat()
    if day in (cfg.skip_dates or []):
        return say(f"{day} is already skipped.", private=True)
    cfg.skip_dates = sorted({*(cfg.skip_dates or []), day})
    cfg.updated_at = now
    session.add(cfg)
    meeting = sched.session_on(session=session, group_id=_gid(who), day=first, tz=rule.tz)
    if meeting is not None:
        sched.cancel(session=session, meeting=meeting, now=now)
    session.flush()
    refresh_group(session=session, group_id=_gid(who), now=now)
    return say(
        f"No session on {bold(day)}; the rotation moves on to the next date. "
        "`/schedule` shows the new plan."
    )


# --- /rotation ----------------------------------------------------------------


async def rotation_cmd(ctx: Ctx) -> Reply:
    cmd = ctx.event
    assert isinstance(cmd, Command)
    sub, rest = split_first(cmd.text)
    sub = sub.lower()
    handlers: dict[str, Callable[..., Reply]] = {
        "": _list_rotation,
        "list": _list_rotation,
        "join": _join,
        "leave": _leave,
        "add": _add,
        "remove": _remove,
        "swap": _swap,
        "skip": _skip_turn,
    }
    fn = handlers.get(sub)
    if fn is None:
        return error(
            f"`/rotation {esc(sub)}` is not something I know. Use `/rotation` to see it, or "
            "`join`, `leave`, `add @user`, `remove @user`, `swap @a @b`, `skip`."
        )
    reply = await _in_group(ctx, fn, text=rest)
    changed(ctx.bot)
    return reply


def _people(session: Session, who: Who, text: str, now: datetime) -> list[Member]:
    return [
        resolve_member(
            session=session,
            ref=ref,
            platform=who.group.platform,
            workspace=who.group.workspace,
            now=now,
        )
        for ref in parse_mentions(text)
    ]


def _names_only_self(who: Who, text: str) -> bool:
    """Whether every person ``text`` names is the actor, decided before any
    member row is created (a refused request must change nothing)."""
    me = who.member
    own = {me.user_id.lower(), me.name.lower()} - {""}
    return all(
        ref.user_id == me.user_id or (not ref.exact and ref.name.lower() in own)
        for ref in parse_mentions(text)
    )


def _list_rotation(*, session: Session, who: Who, now: datetime, text: str) -> Reply:
    gid = _gid(who)
    refresh_group(session=session, group_id=gid, now=now)
    people = rotation.roster(session=session, group_id=gid)
    if not people:
        return say(
            "Nobody is in the rotation yet. Join with `/rotation join`; organizers add "
            "others with `/rotation add @user`."
        )
    cfg = sched.get_settings(session=session, group_id=gid, now=now)
    counts = rotation.presentation_counts(session=session, group_id=gid, now=now)
    today = _today(cfg, now)
    lines = []
    for i, e in enumerate(people, start=1):
        assert e.member.id is not None
        nxt = rotation.next_session_of(
            session=session, group_id=gid, member_id=e.member.id, now=now
        )
        aways = rotation.aways_of(session=session, group_id=gid, member_id=e.member.id, today=today)
        bits = [f"presented {counts.get(e.member.id, 0)}×"]
        if nxt is not None:
            bits.append(f"next {esc(when_text(nxt, cfg))}")
        if aways:
            bits.append("away " + ", ".join(f"{a.first_day}–{a.last_day}" for a in aways))
        lines.append(f"{i}. {mention(e.member.user_id)} · " + " · ".join(bits))
    blocks = (
        Header(f"Rotation: {plural(len(people), 'member')}"),
        Text("\n".join(lines)),
        Context(
            "Next presenter: whoever presented least recently among those available; "
            "ties by this order."
        ),
    )
    return Reply(blocks=blocks)


def _join(*, session: Session, who: Who, now: datetime, text: str) -> Reply:
    if text.strip():
        return error("To add someone else use `/rotation add @user` (organizers).")
    added = rotation.join(session=session, group_id=_gid(who), member=who.member, now=now)
    refresh_group(session=session, group_id=_gid(who), now=now)
    if not added:
        return say("You're already in the rotation. `/rotation` shows it.", private=True)
    return say(f"{mention(who.member.user_id)} joined the presenter rotation.")


def _leave(*, session: Session, who: Who, now: datetime, text: str) -> Reply:
    removed = rotation.leave(session=session, group_id=_gid(who), member=who.member, now=now)
    refresh_group(session=session, group_id=_gid(who), now=now)
    if not removed:
        return say("You're not in the rotation. `/rotation join` adds you.", private=True)
    return say(
        f"{mention(who.member.user_id)} left the rotation; their upcoming sessions go to "
        "the next in turn."
    )


def _add(*, session: Session, who: Who, now: datetime, text: str) -> Reply:
    if not who.organizer and not _names_only_self(who, text):
        return error("Only organizers add other people. Ask them to run `/rotation join`.")
    try:
        people = _people(session, who, text, now)
    except UnknownPerson as exc:
        return error(esc(str(exc)))
    if not people:
        return error("Who? `/rotation add @alice` (you can name several).")
    added = [
        p for p in people if rotation.join(session=session, group_id=_gid(who), member=p, now=now)
    ]
    refresh_group(session=session, group_id=_gid(who), now=now)
    if not added:
        return say("They're already in the rotation.", private=True)
    return say("Added to the rotation: " + ", ".join(mention(p.user_id) for p in added) + ".")


def _remove(*, session: Session, who: Who, now: datetime, text: str) -> Reply:
    if not who.organizer and not _names_only_self(who, text):
        return error("Only organizers remove other people; `/rotation leave` removes yourself.")
    try:
        people = _people(session, who, text, now)
    except UnknownPerson as exc:
        return error(esc(str(exc)))
    if not people:
        return error("Who? `/rotation remove @alice`.")
    removed = [
        p for p in people if rotation.leave(session=session, group_id=_gid(who), member=p, now=now)
    ]
    refresh_group(session=session, group_id=_gid(who), now=now)
    if not removed:
        return say("They're not in the rotation.", private=True)
    return say(
        "Removed from the rotation: "
        + ", ".join(mention(p.user_id) for p in removed)
        + ". Their upcoming sessions go to the next in turn."
    )


def _swap(*, session: Session, who: Who, now: datetime, text: str) -> Reply:
    if not who.organizer:
        return error("Only organizers swap presenters. Ask one to run `/rotation swap @a @b`.")
    try:
        people = _people(session, who, text, now)
    except UnknownPerson as exc:
        return error(esc(str(exc)))
    if len(people) != 2:
        return error("Name exactly two people: `/rotation swap @alice @bob`.")
    gid = _gid(who)
    refresh_group(session=session, group_id=gid, now=now)
    try:
        s1, s2 = rotation.swap(session=session, group_id=gid, a=people[0], b=people[1], now=now)
    except sched.ScheduleError as exc:
        return error(esc(str(exc)))
    refresh_group(session=session, group_id=gid, now=now)
    cfg = sched.get_settings(session=session, group_id=gid, now=now)
    return say(
        f"Swapped: {mention(people[1].user_id)} now presents {esc(when_text(s1, cfg))} and "
        f"{mention(people[0].user_id)} presents {esc(when_text(s2, cfg))}."
    )


def _skip_turn(*, session: Session, who: Who, now: datetime, text: str) -> Reply:
    gid = _gid(who)
    refresh_group(session=session, group_id=gid, now=now)
    nxt = next(
        (
            s
            for s in sched.upcoming(session=session, group_id=gid, now=now)
            if s.presenter_member_id is not None
        ),
        None,
    )
    if nxt is None:
        return error("There is no upcoming session with a presenter. `/schedule` shows the plan.")
    if nxt.presenter_member_id != who.member.id and not who.organizer:
        return error("Only the next presenter or an organizer can skip the next turn.")
    chosen = (
        proposals_svc.entry(session=session, proposal_id=nxt.proposal_id)
        if nxt.proposal_id is not None
        else None
    )
    meeting, passed = rotation.skip_next(session=session, group_id=gid, now=now)
    refresh_group(session=session, group_id=gid, now=now)
    cfg = sched.get_settings(session=session, group_id=gid, now=now)
    passed_member = session.get(Member, passed)
    new = session.get(Member, meeting.presenter_member_id) if meeting.presenter_member_id else None
    paper = ""
    if chosen is not None and chosen.proposal.status == ProposalStatus.OPEN:  # released
        paper = (
            f" The paper they chose, {bold(esc(title_of(chosen.paper)))}, goes back to "
            "the queue; `/present` picks one for the session."
        )
    return say(
        f"{_name(passed_member)} moves back; {esc(when_text(meeting, cfg))} is now presented "
        f"by {_name(new)}.{paper}"
    )


# --- /away --------------------------------------------------------------------


async def away(ctx: Ctx) -> Reply:
    cmd = ctx.event
    assert isinstance(cmd, Command)
    reply = await _in_group(ctx, _away, text=cmd.text)
    changed(ctx.bot)
    return reply


def _away(*, session: Session, who: Who, now: datetime, text: str) -> Reply:
    gid = _gid(who)
    cfg = sched.get_settings(session=session, group_id=gid, now=now)
    today = _today(cfg, now)
    target = who.member
    first_word, rest = split_first(text)
    if first_word.startswith(("<@", "@")):
        if not who.organizer and not _names_only_self(who, first_word):
            return error("Only organizers mark other people away; `/away FROM TO` marks you.")
        stranger = unknown_person(
            session=session,
            text=first_word,
            platform=who.group.platform,
            workspace=who.group.workspace,
        )
        if stranger is not None:
            return error(stranger)
        try:
            people = _people(session, who, first_word, now)
        except UnknownPerson as exc:
            return error(esc(str(exc)))
        target, text = people[0], rest
    assert target.id is not None
    if not text.strip():
        aways = rotation.aways_of(session=session, group_id=gid, member_id=target.id, today=today)
        if not aways:
            return say(f"No away dates. Add some with {sched.PERIOD_EXAMPLE}.", private=True)
        return say(
            "Away: "
            + ", ".join(f"{a.first_day} to {a.last_day}" for a in aways)
            + ". `/away clear` removes them.",
            private=True,
        )
    if text.strip().lower() in {"clear", "none", "back"}:
        n = rotation.clear_aways(session=session, group_id=gid, member_id=target.id, today=today)
        refresh_group(session=session, group_id=gid, now=now)
        return say(f"Cleared {plural(n, 'away period')}.", private=True)
    try:
        first, last = parse_period(text, today=today, examples=sched.PERIOD_EXAMPLE)
    except DateError as exc:
        return error(str(exc))
    if last < today:
        return error(f"That period ({first} to {last}) is over. Give dates from today on.")
    rotation.add_away(session=session, group_id=gid, member=target, first=first, last=last, now=now)
    refresh_group(session=session, group_id=gid, now=now)
    return say(
        f"{mention(target.user_id)} is away {first} to {last}; the rotation passes over "
        "those dates. `/schedule` shows the plan.",
        private=True,
    )


# --- /schedule ----------------------------------------------------------------


async def show_schedule(ctx: Ctx) -> Reply:
    cmd = ctx.event
    assert isinstance(cmd, Command)
    arg = cmd.text.strip().lower()
    if arg == "ics":
        return await _in_group(ctx, _ics)
    if arg:
        return error("`/schedule` shows the next sessions; `/schedule ics` gives a calendar.")
    return await _in_group(ctx, _schedule)


def _ics(*, session: Session, who: Who, now: datetime) -> Reply:
    refresh_group(session=session, group_id=_gid(who), now=now)
    cfg = sched.get_settings(session=session, group_id=_gid(who), now=now)
    if sched.rule_of(cfg) is None:
        return error(NO_MEETING)
    data = export_ics(session=session, group_id=_gid(who))
    events = data.count(b"BEGIN:VEVENT")
    return Reply(
        blocks=(
            Text(
                f"The reading group calendar ({plural(events, 'session')}): import "
                f"`{ICS_NAME}` into your calendar app. Import it again after the plan "
                "changes; `/schedule` shows the next sessions."
            ),
        ),
        private=True,
        files=(Attachment(ICS_NAME, data, "text/calendar"),),
        fallback_text="The reading group calendar (.ics)",
    )


def _schedule(*, session: Session, who: Who, now: datetime) -> Reply:
    gid = _gid(who)
    refresh_group(session=session, group_id=gid, now=now)
    cfg = sched.get_settings(session=session, group_id=gid, now=now)
    rule = sched.rule_of(cfg)
    if rule is None:
        return say(NO_MEETING, private=True)
    meetings = sched.upcoming(session=session, group_id=gid, now=now, limit=SCHEDULE_SHOWN)
    lines = []
    for m in meetings:
        presenter = session.get(Member, m.presenter_member_id) if m.presenter_member_id else None
        e = (
            proposals_svc.entry(session=session, proposal_id=m.proposal_id)
            if m.proposal_id is not None
            else None
        )
        paper = link(title_of(e.paper), abs_url(e.paper)) if e else "_paper not chosen yet_"
        lines.append(f"{bold(esc(when_text(m, cfg)))} · {_name(presenter)} · {paper}")
    skipped = [d for d in cfg.skip_dates or [] if d >= _today(cfg, now).isoformat()]
    blocks: list[object] = [Header(f"Next sessions ({rule.describe()})")]
    blocks.append(Text("\n".join(lines) if lines else "_No upcoming sessions._"))
    if skipped:
        blocks.append(Context("Skipped: " + esc(", ".join(sorted(skipped)))))
    if not rotation.roster(session=session, group_id=gid):
        blocks.append(Context("Nobody is in the rotation yet: `/rotation join`."))
    blocks.append(
        Context(
            "Presenters pick a paper with `/present <arXiv link or id>`; "
            "`/schedule ics` gives a calendar."
        )
    )
    return Reply(blocks=tuple(blocks))  # type: ignore[arg-type]


# --- /present and the nudge's buttons ------------------------------------------


def _target_session(session: Session, who: Who, now: datetime) -> MeetingSession | str:
    """The session the actor may choose a paper for, or why not."""
    gid = _gid(who)
    cfg = sched.get_settings(session=session, group_id=gid, now=now)
    if sched.rule_of(cfg) is None:
        return NO_MEETING
    refresh_group(session=session, group_id=gid, now=now)
    assert who.member.id is not None
    mine = rotation.next_session_of(session=session, group_id=gid, member_id=who.member.id, now=now)
    if mine is not None:
        return mine
    nxt = sched.upcoming(session=session, group_id=gid, now=now, limit=1)
    if not nxt:
        return "There is no upcoming session. `/schedule` shows the plan."
    if who.organizer:
        return nxt[0]
    presenter = (
        session.get(Member, nxt[0].presenter_member_id) if nxt[0].presenter_member_id else None
    )
    return (
        f"You're not presenting soon. The next session ({when_text(nxt[0], cfg)}) is "
        f"{_name(presenter)}'s to choose; organizers can choose for anyone."
    )


def _choose(
    *,
    session: Session,
    who: Who,
    now: datetime,
    arxiv_id: str = "",
    why: str = "",
    proposal_id: int | None = None,
) -> Chosen | Reply:
    """Put a paper (queued, or new by reference) on the actor's next session."""
    target = _target_session(session, who, now)
    if isinstance(target, str):
        return error(target)
    gid = _gid(who)
    if proposal_id is not None:
        e = proposals_svc.entry(session=session, proposal_id=proposal_id)
        if e is None or e.proposal.group_id != gid:
            return error("That paper is no longer in the queue. `/queue` shows the current ones.")
    else:
        e = proposals_svc.find_in_group(session=session, group_id=gid, arxiv_id=arxiv_id)
        if e is None:
            result = proposals_svc.propose(
                session=session,
                group=who.group,
                member=who.member,
                arxiv_id=arxiv_id,
                why=why,
                now=now,
            )
            assert result.proposal.id is not None
            e = proposals_svc.entry(session=session, proposal_id=result.proposal.id)
            assert e is not None
    proposal = e.proposal
    if proposal.status == ProposalStatus.PRESENTED:
        when = proposal.presented_at.strftime("%Y-%m-%d") if proposal.presented_at else "earlier"
        return error(
            f"{bold(esc(title_of(e.paper)))} was already presented ({when}). "
            "Pick another from `/queue`."
        )
    if proposal.status == ProposalStatus.WITHDRAWN:
        return error("That proposal was withdrawn. Propose it again with `/propose`.")
    cfg = sched.get_settings(session=session, group_id=gid, now=now)
    assert target.id is not None and proposal.id is not None
    again = target.proposal_id == proposal.id  # e.g. the pick deadline gave it already
    if proposal.status == ProposalStatus.SCHEDULED and not again:
        return error(
            session_card.scheduled_elsewhere(
                session=session,
                proposal_id=proposal.id,
                title=title_of(e.paper),
                target=when_text(target, cfg),
            )
        )
    if not again:
        by = "presenter" if target.presenter_member_id == who.member.id else "organizer"
        sched.assign_paper(session=session, meeting=target, proposal=proposal, by=by, now=now)
    return Chosen(
        session_id=target.id,
        when=when_text(target, cfg),
        title=title_of(e.paper),
        paper_id=e.paper.id or 0,
        arxiv_id=e.paper.arxiv_id,
        pending=e.paper.status != "ready",
        again=again,
        has_thread=target.thread_id is not None,
    )


@dataclass(frozen=True)
class Chosen:
    session_id: int
    when: str
    title: str
    paper_id: int
    arxiv_id: str
    pending: bool
    #: the paper was already the session's: nothing changes (the card may be owed)
    again: bool = False
    has_thread: bool = False


async def present(ctx: Ctx) -> Reply | list[Reply]:
    cmd = ctx.event
    assert isinstance(cmd, Command)
    ref_text, why = split_first(cmd.text)
    if not ref_text:
        return error(
            "Which paper? `/present <arXiv link or id>`, e.g. `/present 1706.03762`; "
            "`/queue` lists the proposals."
        )
    try:
        ref = parse_ref(ref_text)
    except InvalidReference as exc:
        return error(f"{esc(str(exc))} Example: `/present 1706.03762`.")
    missing = await present_check.refuse_missing(ctx, ref.base)
    if missing is not None:
        return missing
    result = await _in_group(ctx, _choose, arxiv_id=ref.base, why=why)
    if isinstance(result, Reply):
        return result
    return await _after_choice(ctx, result)


async def present_pick(ctx: Ctx) -> Reply | list[Reply]:
    """The nudge's "Present #n" button. It arrives from a direct message, so
    the group is the proposal's, not the place's."""
    bot, act = ctx.bot, ctx.event
    assert isinstance(act, Action)
    proposal_id = row_id(act.value)
    if proposal_id is None:
        return error("That button is broken; use `/present <arXiv link or id>` instead.")
    now = bot.clock.now()

    def work(*, session: Session) -> Chosen | Reply:
        from bot.groups.members import ensure_member, is_organizer
        from storage.groups.tables import Group
        from storage.papers.tables import Proposal

        proposal = session.get(Proposal, proposal_id)
        group = session.get(Group, proposal.group_id) if proposal is not None else None
        if proposal is None or group is None:
            return error("That paper is no longer in the queue. `/queue` shows the current ones.")
        member = ensure_member(session=session, actor=act.actor, workspace=group.workspace, now=now)
        organizer = is_organizer(
            actor=act.actor,
            group=group,
            configured=bot.settings.organizers,
            workspace=act.place.workspace,
        )
        return _choose(
            session=session, who=Who(group, member, organizer), now=now, proposal_id=proposal_id
        )

    result = await bot.db(work)
    if isinstance(result, Reply):
        return result
    replies = await _after_choice(ctx, result)
    return [Reply(blocks=r.blocks, replace=True, fallback_text=r.fallback_text) for r in replies]


async def _after_choice(ctx: Ctx, chosen: Chosen) -> list[Reply]:
    """Fetch a new paper's metadata, then post its card in the channel and open
    the session's discussion thread on it (see :mod:`bot.schedule.session_card`)."""
    bot = ctx.bot
    changed(bot)
    lead = (
        session_card.already_text(chosen.title, chosen.when)
        if chosen.again
        else f"{bold(esc(chosen.title))} is the paper for {esc(chosen.when)}."
    )
    if chosen.again and chosen.has_thread:
        return [say(f"{lead} Its discussion is in the paper's thread.", private=True)]
    if chosen.pending:
        task = fetch_paper(bot, chosen.paper_id, chosen.arxiv_id)
        try:
            await asyncio.wait_for(asyncio.shield(task), ARXIV_WAIT_SECONDS)
        except Exception:  # slow or down: the card shows the id; arXiv fills in later
            log.info("arXiv slow for %s; announcing the paper with its id", chosen.arxiv_id)
    posted = await session_card.post_card(bot, session_id=chosen.session_id)
    if posted is None:
        return [say(f"The paper for {esc(chosen.when)} is chosen.", private=True)]
    if not posted.in_channel:
        return [posted.card]  # shown here instead; the channel reminder opens the thread later
    return [
        say(
            f"{lead} I posted its card in the channel with a thread for the discussion.",
            private=True,
        )
    ]
