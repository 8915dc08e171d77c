"""The direct messages a presenter gets before their session: the nudge (pick
a paper), the notice that the queue was empty at the pick deadline, and the
notice that the deadline assigned the top-voted paper.

Any of them can be the first the presenter hears of the session (the earlier
ones may have been superseded: see :mod:`bot.schedule.catch_up`), so each
says that they present, and when; and each states the deadline rule as it
stands when it is sent, not as it stood a day earlier.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.chat.markup import bold, esc, link
from bot.chat.replies import Block, Button, Buttons, Context, Header, Reply, Text
from bot.infra.clock import as_utc
from bot.papers import proposals as proposals_svc
from bot.papers.cards import abs_url, title_of
from bot.schedule import catch_up
from bot.schedule import meetings as schedule
from storage.schedule.tables import GroupSettings, MeetingSession

PRESENT_PICK = "present_pick"


def when_text(meeting: MeetingSession, cfg: GroupSettings) -> str:
    tz = schedule.zone(cfg.timezone or "UTC")
    local = as_utc(meeting.starts_at).astimezone(tz)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} {tz.key}"  # no leading zero


def paper_line(session: Session, meeting: MeetingSession) -> str:
    if meeting.proposal_id is None:
        return "_not chosen yet_"
    e = proposals_svc.entry(session=session, proposal_id=meeting.proposal_id)
    if e is None:
        return "_not chosen yet_"
    return link(title_of(e.paper), abs_url(e.paper))


def compose(
    *,
    session: Session,
    kind: str,
    meeting: MeetingSession,
    cfg: GroupSettings,
    due_at: datetime,
    now: datetime,
) -> Reply | None:
    """The message of kind nudge, deadline or assigned; None if there is
    nothing to say any more (a paper was chosen meanwhile)."""
    when = when_text(meeting, cfg)
    if kind == "nudge":
        return _nudge(session, meeting, cfg, when, now)
    if kind == "deadline":
        if meeting.proposal_id is not None:
            return None
        text = (
            f"You present on {esc(when)} and no paper is chosen yet; the queue is "
            "empty. Choose one with `/present <arXiv link or id>`. Until the session "
            "starts, the first paper proposed is assigned to you, and you'll be told."
        )
        return Reply(blocks=(Text(text),))
    # assigned: the paper itself was put on the session by catch_up.auto_pick
    picked = (
        proposals_svc.entry(session=session, proposal_id=meeting.proposal_id)
        if meeting.proposal_id is not None
        else None
    )
    if picked is None or meeting.paper_chosen_by != "deadline":
        return None
    why = (
        "No paper was picked by the deadline"
        if as_utc(meeting.created_at) < due_at
        else "No paper was chosen"
    )
    text = (
        f"You present on {esc(when)}. {why}, so the top-voted one is yours: "
        f"{bold(link(title_of(picked.paper), abs_url(picked.paper)))}. "
        "Prefer another? `/present <arXiv link or id>`."
    )
    return Reply(blocks=(Text(text),))


def _nudge(
    session: Session, meeting: MeetingSession, cfg: GroupSettings, when: str, now: datetime
) -> Reply:
    blocks: list[Block] = [
        Header("You present at the reading group"),
        Text(f"You're presenting on **{esc(when)}**."),
    ]
    if meeting.proposal_id is not None:
        # it may have been picked before this presenter got the session (an
        # away or a leave moved it): say how to change it
        blocks.append(
            Text(
                f"Your paper: {paper_line(session, meeting)}. All set; to present "
                "another one, use `/present <arXiv link or id>`."
            )
        )
    else:
        top, _total = proposals_svc.queue(session=session, group_id=meeting.group_id, limit=3)
        if top:
            blocks.append(
                Text(
                    "Pick a paper from the top of the queue, or use "
                    "`/present <arXiv link or id>` for another one:"
                )
            )
            for e in top:
                blocks.append(
                    Text(
                        f"{link(title_of(e.paper), abs_url(e.paper))} "
                        f"({e.votes} vote{'s' if e.votes != 1 else ''})"
                    )
                )
            blocks.append(
                Buttons(
                    tuple(
                        Button(f"Present #{i}", PRESENT_PICK, str(e.proposal.id), "primary")
                        for i, e in enumerate(top, start=1)
                    )
                )
            )
        else:
            blocks.append(
                Text("The queue is empty: choose a paper with `/present <arXiv link or id>`.")
            )
        if now < catch_up.deadline_of(meeting.starts_at, cfg.pick_deadline_hours):
            rule = (
                f"If nothing is picked {cfg.pick_deadline_hours} h before the session, "
                "the top-voted paper is assigned."
            )
        else:
            rule = (
                "The pick deadline has passed: unless you choose one, the top-voted "
                "paper is assigned to you as soon as the queue has one."
            )
        blocks.append(Context(rule))
    return Reply(blocks=tuple(blocks), fallback_text=f"You present on {when}")
