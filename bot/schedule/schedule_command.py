"""``/schedule``: the next sessions with presenter and paper, or the
calendar as an ``.ics`` file."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.chat.events import Command
from bot.chat.markup import bold, esc, link
from bot.chat.plural import plural
from bot.chat.replies import Attachment, Context, Header, Reply, Text, error, say
from bot.chat.router import Option, Router
from bot.groups.context import Who
from bot.infra.runtime import Ctx
from bot.papers import proposals as proposals_svc
from bot.papers.cards import abs_url, title_of
from bot.schedule import meetings as sched
from bot.schedule import rotation
from bot.schedule.calendar import export_ics
from bot.schedule.command_context import (
    NO_MEETING,
    group_id_of,
    in_group,
    name_or_nobody,
    today_in,
)
from bot.schedule.reminders import refresh_group, when_text
from storage.groups.tables import Member

SCHEDULE_SHOWN = 4
ICS_NAME = "readgroup-schedule.ics"


def register(router: Router) -> None:
    router.command(
        "schedule",
        summary="The next sessions with presenter and paper; `ics` gives a calendar.",
        example="/schedule",
        options=(Option("format", "ics for a calendar file", choices=("ics",)),),
    )(show_schedule)


async def show_schedule(ctx: Ctx) -> Reply:
    cmd = ctx.event
    assert isinstance(cmd, Command)
    arg = cmd.text.strip().lower()
    if arg == "ics":
        return await in_group(ctx, _ics)
    if arg:
        return error("`/schedule` shows the next sessions; `/schedule ics` gives a calendar.")
    return await in_group(ctx, _schedule)


def _ics(*, session: Session, who: Who, now: datetime) -> Reply:
    refresh_group(session=session, group_id=group_id_of(who), now=now)
    cfg = sched.get_settings(session=session, group_id=group_id_of(who), now=now)
    if sched.rule_of(cfg) is None:
        return error(NO_MEETING)
    data = export_ics(session=session, group_id=group_id_of(who))
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
    gid = group_id_of(who)
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
        lines.append(f"{bold(esc(when_text(m, cfg)))} · {name_or_nobody(presenter)} · {paper}")
    skipped = [d for d in cfg.skip_dates or [] if d >= today_in(cfg, now).isoformat()]
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
