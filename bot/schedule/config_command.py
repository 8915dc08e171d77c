"""``/readgroup config`` (show the group's settings; organizers change one)
and ``/readgroup skip`` (cancel the session on a date).

Each setting has its own small function in :data:`SETTERS`: it parses the
value, checks it, changes the settings row and returns the note for the
reply. Every change recomputes the group's sessions and presenters in the
same transaction and wakes the scheduler.

A channel arrives in the neutral form ``#<channel id>`` (the adapters turn
their platform's channel mention into it) or as a name typed by hand
(``#reading-group``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.chat.dates import WEEKDAY_NAMES, DateError, parse_day
from bot.chat.events import Command
from bot.chat.markup import bold, esc, mention
from bot.chat.markup import channel as markup_channel
from bot.chat.plural import plural
from bot.chat.replies import Context, Fields, Header, Reply, Text, error, say
from bot.chat.router import Option, Router
from bot.groups.context import Who, split_first
from bot.groups.mentions import UnknownPerson, parse_mentions, resolve_member
from bot.infra.runtime import Ctx
from bot.schedule import meetings as sched
from bot.schedule.command_context import NO_MEETING, group_id_of, in_group, today_in
from bot.schedule.reminders import offset_label, refresh_group
from bot.schedule.scheduler import changed
from storage.schedule.tables import GroupSettings

SKIP_EXAMPLES = "`/readgroup skip 2026-12-24` or `/readgroup skip next thursday`"
#: The example of each setting, shown with its errors.
EXAMPLES = {
    "meeting": sched.MEETING_EXAMPLE,
    "duration": "/readgroup config duration 90m",
    "reminders": "/readgroup config reminders 24h 1h",
    "nudge": "/readgroup config nudge 3d",
    "deadline": "/readgroup config deadline 48h",
    "takeaways": "/readgroup config takeaways 1h",
    "channel": "/readgroup config channel #reading-group",
    "organizers": "/readgroup config organizers @alice @bob",
    "name": '/readgroup config name "Foundry ML reading group"',
    "about": "/readgroup config about ML engineers who read one paper a week on testing ML",
}
#: The longest group name and about text (the posts show them whole).
NAME_MAX, ABOUT_MAX = 80, 400
CONFIG_KEYS = tuple(EXAMPLES)
_OFF = {"off", "none"}


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


async def readgroup(ctx: Ctx) -> Reply:
    cmd = ctx.event
    assert isinstance(cmd, Command)
    sub, rest = split_first(cmd.text)
    sub = sub.lower()
    if sub in ("", "config", "settings"):
        key, value = split_first(rest)
        if not key:
            return await in_group(ctx, _show_config)
        reply = await in_group(ctx, _set_config, key=key.lower(), value=value)
        changed(ctx.bot)
        return reply
    if sub == "skip":
        reply = await in_group(ctx, _skip_date, text=rest)
        changed(ctx.bot)
        return reply
    return error(
        f"`/readgroup {esc(sub)}` is not something I know. Use `/readgroup config` to see the "
        f"settings, `{sched.MEETING_EXAMPLE}` to set the meeting, or `/readgroup skip "
        "2026-12-24` to cancel a session."
    )


def _config_reply(session: Session, who: Who, now: datetime, note: str = "") -> Reply:
    cfg = sched.get_settings(session=session, group_id=group_id_of(who), now=now)
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
            markup_channel(cfg.announce_channel) if cfg.announce_channel else "this channel",
        ),
        ("Organizers", organizers),
        ("Name", esc(who.group.name) if who.group.name else "_not set_"),
        ("About", esc(who.group.about) if who.group.about else "_not set_"),
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
    if not value:
        return error(f"Give a value too, for example `{EXAMPLES[key]}`.")
    cfg = sched.get_settings(session=session, group_id=group_id_of(who), now=now)
    try:
        note = SETTERS[key](Change(session, who, cfg, value, now))
    except (sched.ScheduleError, UnknownPerson) as exc:
        return error(f"{esc(str(exc))}\nExample: `{EXAMPLES[key]}`.")
    cfg.updated_at = now
    session.add(cfg)
    session.flush()
    refresh_group(session=session, group_id=group_id_of(who), now=now)
    reply = _config_reply(session, who, now, note)
    return Reply(blocks=reply.blocks, private=False)


# --- one function per setting ---------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One setting to change: the value as given, and what it may touch."""

    session: Session
    who: Who
    cfg: GroupSettings
    value: str
    now: datetime


def _set_meeting(c: Change) -> str:
    cfg = c.cfg
    if c.value.lower() in _OFF:
        cfg.meeting_weekday, cfg.meeting_time, cfg.timezone = None, "", ""
        return "Meeting time cleared: no sessions or reminders until it is set again."
    rule = sched.parse_meeting(c.value)
    cfg.meeting_weekday, cfg.meeting_time = rule.weekday, f"{rule.at:%H:%M}"
    cfg.timezone = rule.tz.key
    return f"The group meets every {bold(esc(rule.describe()))}."


def _set_duration(c: Change) -> str:
    minutes = sched.parse_duration(c.value)
    if not 10 <= minutes <= 8 * 60:
        raise sched.ScheduleError("A session lasts between 10 minutes and 8 hours.")
    c.cfg.duration_minutes = minutes
    return f"Sessions last {minutes} minutes."


def _set_reminders(c: Change) -> str:
    if c.value.lower() in _OFF:
        c.cfg.reminder_minutes = []
        return "Channel reminders are off."
    offsets = sorted(
        {sched.parse_duration(v, unit="h") for v in c.value.replace(",", " ").split()},
        reverse=True,
    )
    if any(m <= 0 or m > 14 * 24 * 60 for m in offsets) or len(offsets) > 4:
        raise sched.ScheduleError("Give up to four reminders between 1 minute and 14 days.")
    c.cfg.reminder_minutes = offsets
    return "Channel reminders: " + ", ".join(offset_label(m) for m in offsets) + " before."


def _set_nudge(c: Change) -> str:
    minutes = sched.parse_duration(c.value, unit="d")
    if minutes % (24 * 60) or not 1 <= minutes // (24 * 60) <= 14:
        raise sched.ScheduleError("The presenter nudge is 1 to 14 whole days before.")
    c.cfg.nudge_days = minutes // (24 * 60)
    return f"Presenters get a nudge {plural(c.cfg.nudge_days, 'day')} before."


def _set_deadline(c: Change) -> str:
    minutes = sched.parse_duration(c.value, unit="h")
    if minutes % 60 or not 1 <= minutes // 60 <= 14 * 24:
        raise sched.ScheduleError("The pick deadline is 1 to 336 whole hours before.")
    c.cfg.pick_deadline_hours = minutes // 60
    return f"Papers must be picked {c.cfg.pick_deadline_hours} h before."


def _set_takeaways(c: Change) -> str:
    minutes = sched.parse_duration(c.value, unit="m")
    if not 0 <= minutes <= 24 * 60:
        raise sched.ScheduleError("The takeaways prompt comes 0 to 24 hours after the start.")
    c.cfg.takeaways_after_minutes = minutes
    return f"The takeaways prompt comes {offset_label(minutes)} after the start."


def _set_channel(c: Change) -> str:
    channel = c.value.lstrip("#")  # "#<id>" from an adapter, or a name typed by hand
    if not re.fullmatch(r"[A-Za-z0-9_.\-]{1,64}", channel):
        raise sched.ScheduleError(f"`{c.value}` is not a channel. Link it with #.")
    c.cfg.announce_channel = "" if channel.lower() in {"here", "this"} else channel
    return "Announcements go to " + (
        f"{markup_channel(channel)}." if c.cfg.announce_channel else "this channel."
    )


def _set_organizers(c: Change) -> str:
    refs = parse_mentions(c.value)
    if not refs:
        raise sched.ScheduleError("Name at least one organizer with @.")
    group = c.who.group
    ids: list[str] = []
    for ref in refs:
        member = resolve_member(
            session=c.session,
            ref=ref,
            platform=group.platform,
            workspace=group.workspace,
            now=c.now,
        )
        if member.user_id not in ids:
            ids.append(member.user_id)
    group.organizers = ids
    c.session.add(group)
    return "Organizers: " + ", ".join(mention(u) for u in ids) + "."


def _set_name(c: Change) -> str:
    name = " ".join(c.value.split())
    if len(name) > NAME_MAX:
        raise sched.ScheduleError(f"A group name has at most {NAME_MAX} characters.")
    group = c.who.group
    group.name = "" if name.lower() in _OFF else name
    c.session.add(group)
    if not group.name:
        return "The group's name is cleared; the posts say “Reading Group”."
    return f"The group is called {bold(esc(group.name))} in its posts."


def _set_about(c: Change) -> str:
    about = " ".join(c.value.split())
    if len(about) > ABOUT_MAX:
        raise sched.ScheduleError(f"Keep it to one sentence of at most {ABOUT_MAX} characters.")
    group = c.who.group
    group.about = "" if about.lower() in _OFF else about
    c.session.add(group)
    if not group.about:
        return "The group's description is cleared."
    return "The quarterly digest opens with: " + esc(group.about)


#: Setting -> the function that changes it and returns the note for the reply.
SETTERS: dict[str, Callable[[Change], str]] = {
    "meeting": _set_meeting,
    "duration": _set_duration,
    "reminders": _set_reminders,
    "nudge": _set_nudge,
    "deadline": _set_deadline,
    "takeaways": _set_takeaways,
    "channel": _set_channel,
    "organizers": _set_organizers,
    "name": _set_name,
    "about": _set_about,
}


# --- /readgroup skip ------------------------------------------------------------


def _skip_date(*, session: Session, who: Who, now: datetime, text: str) -> Reply:
    if not who.organizer:
        return error("Only organizers cancel sessions. Ask an organizer to run `/readgroup skip`.")
    cfg = sched.get_settings(session=session, group_id=group_id_of(who), now=now)
    if sched.rule_of(cfg) is None:
        return error(NO_MEETING)
    try:
        first = parse_day(text, today=today_in(cfg, now), examples=SKIP_EXAMPLES)
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
    if first < today_in(cfg, now):
        return error(f"{first} is in the past. Give an upcoming meeting date from `/schedule`.")
    day = first.isoformat()
    if day in (cfg.skip_dates or []):
        return say(f"{day} is already skipped.", private=True)
    cfg.skip_dates = sorted({*(cfg.skip_dates or []), day})
    cfg.updated_at = now
    session.add(cfg)
    meeting = sched.session_on(session=session, group_id=group_id_of(who), day=first, tz=rule.tz)
    if meeting is not None:
        sched.cancel(session=session, meeting=meeting, now=now)
    session.flush()
    refresh_group(session=session, group_id=group_id_of(who), now=now)
    return say(
        f"No session on {bold(day)}; the rotation moves on to the next date. "
        "`/schedule` shows the new plan."
    )
