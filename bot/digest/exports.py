"""``readgroup export``: the weekly post, the quarterly digest and the monthly picks as Markdown.

``readgroup export digest --week 2026-W47 --format md [--group ID]`` prints the
week's published post (else its newest draft, else a fresh render);
``readgroup export quarter [2026-Q4] [--group ID]`` prints the quarter's digest
(this quarter by default; only the sessions already held);
``readgroup export month [2026-11] [--group ID]`` prints the month's picks (the
most voted proposals, with the proposer's reason and the tl;dr, like seed 003);
``readgroup export ics`` is the calendar area's (``bot.schedule.calendar``);
:mod:`bot.cli` runs all of them from one ``export`` sub-command.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import tzinfo
from typing import TYPE_CHECKING

from sqlmodel import Session

from bot.chat.markup import parse
from bot.digest.month import compose_month
from bot.digest.periods import Month, Quarter, Week
from bot.digest.quarter import compose_quarter
from bot.digest.revisions import published_of_week
from bot.digest.weekly import compose_week
from bot.groups.listing import group_list
from bot.schedule.meetings import group_zone
from storage.groups.queries import all_groups
from storage.groups.tables import Group

if TYPE_CHECKING:
    from bot.infra.runtime import Runtime

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")


def _md_text(text: str) -> str:
    out = _MD_SPECIAL.sub(r"\\\1", text)
    return re.sub(r"(?m)^(\s*)([#+\-]|\d+\.)(\s)", r"\1\\\2\3", out)


def _md_line(markup: str) -> str:
    """One line of markup as Markdown; a line that opens with a bold link (a
    paper's title) becomes a second-level heading, so the post can be skimmed."""
    spans = parse(markup)
    heading = bool(spans) and spans[0].kind == "link" and spans[0].strong
    parts: list[str] = ["## "] if heading else []
    for i, span in enumerate(spans):
        if span.kind == "bold":
            parts.append(f"**{_md_text(span.text)}**")
        elif span.kind == "italic":
            parts.append(f"_{_md_text(span.text)}_")
        elif span.kind == "code":
            parts.append(f"`{span.text.replace('`', '')}`")
        elif span.kind == "link":
            shown = f"[{_md_text(span.text)}]({span.url})"
            parts.append(f"**{shown}**" if span.strong and not (heading and i == 0) else shown)
        elif span.kind == "mention":
            parts.append(f"@{_md_text(span.text)}")
        elif span.kind == "channel":
            parts.append(f"#{_md_text(span.text)}")
        else:
            parts.append(_md_text(span.text))
    return "".join(parts)


def to_markdown(title: str, body: str) -> str:
    """Neutral markup as Markdown: bullets become list items, lines inside a
    paragraph keep their breaks."""
    out = [f"# {_md_text(title)}", ""]
    for para in re.split(r"\n\s*\n", body.strip()):
        lines = [ln for ln in para.splitlines() if ln.strip()]
        rendered: list[str] = []
        for ln in lines:
            if ln.startswith("• "):
                rendered.append("- " + _md_line(ln[2:]))
            else:
                rendered.append(_md_line(ln))
        text = ""
        for i, r in enumerate(rendered):
            if i:
                # a hard break between prose lines; a list may follow a line directly
                text += "\n" if r.startswith("- ") or rendered[i - 1].startswith("## ") else "  \n"
            text += r
        out.append(text)
        out.append("")
    return "\n".join(out).rstrip() + "\n"


class ExportError(Exception):
    """What the user asked to export does not exist; the message says what to do."""


def pick_group(*, session: Session, group_id: int | None) -> Group:
    """The group named by ``--group``; without it, the only group. With
    several groups there is no "the" group: the message lists them."""
    groups = all_groups(session)
    if group_id is not None:
        group = session.get(Group, group_id)
        if group is None:
            raise ExportError(
                f"There is no group {group_id}. The groups are:\n{group_list(groups)}"
                if groups
                else f"There is no group {group_id}: the database has no reading group yet."
            )
        return group
    if not groups:
        raise ExportError(
            "The database has no reading group yet. Use the bot in a channel first "
            "(or point DATABASE_URL at the right database)."
        )
    if len(groups) > 1:
        raise ExportError(
            f"There are {len(groups)} reading groups; say which one to export with "
            f"--group:\n{group_list(groups)}"
        )
    return groups[0]


async def _group_and_zone(bot: Runtime, group_id: int | None) -> tuple[int, tzinfo]:
    """The group to export and its meeting time zone, where periods are cut."""
    group = await bot.db(pick_group, group_id=group_id)
    assert group.id is not None
    return group.id, await bot.db(group_zone, group_id=group.id)


async def export_week(bot: Runtime, *, week: Week | None, group_id: int | None = None) -> str:
    """The week's post as Markdown: published, else newest draft, else fresh.
    ``None`` is the current week; weeks are cut in the group's time zone."""
    gid, tz = await _group_and_zone(bot, group_id)
    week = replace(week, tz=tz) if week is not None else Week.containing(bot.clock.now(), tz)
    view = await bot.db(published_of_week, group_id=gid, week=week.label)
    if view is not None:
        return to_markdown(view.revision.title, view.revision.body)
    content, title, body, _stats = await compose_week(bot, group_id=gid, week=week)
    if content.empty:
        raise ExportError(
            f"Nothing to export for {week.label} ({week.date_label}): no sessions and no "
            "proposals that week."
        )
    return to_markdown(title, body)


async def export_quarter(
    bot: Runtime, *, quarter: Quarter | None, group_id: int | None = None
) -> str:
    """The quarter's digest as Markdown; ``None`` is this quarter, cut in the
    group's time zone. Only sessions already held count."""
    gid, tz = await _group_and_zone(bot, group_id)
    quarter = (
        replace(quarter, tz=tz) if quarter is not None else Quarter.containing(bot.clock.now(), tz)
    )
    title, body, n = await compose_quarter(bot, group_id=gid, quarter=quarter)
    if not n:
        raise ExportError(f"No sessions were held in {quarter.label}; nothing to export.")
    return to_markdown(title, body)


async def export_month(bot: Runtime, *, month: Month | None, group_id: int | None = None) -> str:
    """The month's picks (most voted proposals) as Markdown; ``None`` is this month."""
    gid, tz = await _group_and_zone(bot, group_id)
    month = replace(month, tz=tz) if month is not None else Month.containing(bot.clock.now(), tz)
    title, body, n = await compose_month(bot, group_id=gid, month=month)
    if not n:
        raise ExportError(f"Nothing was proposed in {month.label}; nothing to export.")
    return to_markdown(title, body)
