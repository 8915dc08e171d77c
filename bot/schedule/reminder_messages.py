"""What each scheduled message says and where it goes: pure builders, from
rows already read (no database, no state changes; those stay in
:func:`bot.schedule.reminders.compose`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.chat.events import Place
from bot.chat.markup import esc, mention
from bot.chat.replies import Context, Fields, Header, Reply, Text
from bot.groups.places import announcement_place
from bot.infra.clock import as_utc
from bot.papers.cards import paper_card, title_of
from bot.papers.proposals import Entry
from storage.groups.tables import Group, Member
from storage.schedule.tables import GroupSettings


@dataclass(frozen=True)
class Outbound:
    """A message ready to send, with where it goes."""

    place: Place | None = None  # a channel post
    direct_to: tuple[str, str, str] | None = None  # (platform, workspace, user_id)
    reply: Reply | None = None
    #: Open a discussion thread on the posted message and store it on the session.
    open_thread: str = ""


def place_of(group: Group, cfg: GroupSettings, thread: str | None = None) -> Place:
    """Where the group's announcements go (its announcement channel, else its own)."""
    return announcement_place(group, cfg.announce_channel, thread)


def presenter_text(member: Member | None) -> str:
    if member is None:
        return "_nobody yet_: join with `/rotation join` to present"
    return mention(member.user_id)


def to_presenter(group: Group, presenter: Member, reply: Reply) -> Outbound:
    """A direct message to the presenter (nudge, deadline, assigned)."""
    return Outbound(direct_to=(group.platform, group.workspace, presenter.user_id), reply=reply)


def card_post(reply: Reply, place: Place, thread_name: str) -> Outbound:
    """The deadline pick's paper card, with the thread to open on it."""
    return Outbound(place=place, reply=reply, open_thread=thread_name)


def channel_reminder(
    *,
    group: Group,
    cfg: GroupSettings,
    starts_at: datetime,
    when: str,
    soon: str,
    presenter: Member | None,
    paper: str,
    entry: Entry | None,
    has_thread: bool,
) -> Outbound:
    """The channel reminder before a session: when, who and what; with the
    paper's card and a new thread when the session has a paper but no thread."""
    blocks: list[object] = [
        Header(f"Reading group {soon}"),
        Fields((("When", esc(when)), ("Presenter", presenter_text(presenter)), ("Paper", paper))),
    ]
    if not has_thread and entry is not None:
        blocks.extend(paper_card(entry).blocks)
        blocks.append(
            Context("Discuss the paper in this thread; react with 💡 to mark a takeaway.")
        )
        name = f"{as_utc(starts_at):%Y-%m-%d} {title_of(entry.paper)}"[:90]
        reply = Reply(blocks=tuple(blocks), fallback_text=f"Reading group {soon}")  # type: ignore[arg-type]
        return Outbound(place=place_of(group, cfg), reply=reply, open_thread=name)
    if has_thread:
        blocks.append(Context("The discussion is in the paper's thread."))
    reply = Reply(blocks=tuple(blocks), fallback_text=f"Reading group {soon}")  # type: ignore[arg-type]
    return Outbound(place=place_of(group, cfg), reply=reply)


def takeaways_prompt(
    *, group: Group, cfg: GroupSettings, thread: str | None, what: str
) -> Outbound:
    """The prompt after a session to collect takeaways in its thread."""
    reply = Reply(
        blocks=(
            Text(
                f"Thanks for coming! What did you take away from "
                f"{what}? Reply in this thread and react "
                "with 💡 to the points worth keeping; `/takeaways` lists them."
            ),
        ),
    )
    return Outbound(place=place_of(group, cfg, thread), reply=reply)
