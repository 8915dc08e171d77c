"""The weekly "This Week in ML" post: composing a week (gather, summarise,
render), drafting it as a revision for the organizer's approval,
regenerating it, and the organizer's private preview with its buttons.

Its parts live next door: :mod:`~bot.digest.periods`,
:mod:`~bot.digest.gather`, :mod:`~bot.digest.render`,
:mod:`~bot.digest.revisions` and :mod:`~bot.digest.publishing`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.chat.plural import plural
from bot.chat.replies import Block, Button, Buttons, Context, Header, Reply
from bot.digest.action_ids import APPROVE, DISCARD, EDIT, REGENERATE
from bot.digest.action_ids import EDIT_SAVE as EDIT_SAVE
from bot.digest.drafts import button_value
from bot.digest.gather import WeekContent, gather_week
from bot.digest.grounding import Drops
from bot.digest.period_prose import Extras, intro_to_ask_along, period_intro
from bot.digest.periods import Week
from bot.digest.render import body_blocks, render_week
from bot.digest.revisions import DraftClosed, DraftView, add_revision, load_view, new_draft
from bot.digest.summaries import RunStats, llm_for, summarize_papers
from bot.digest.summaries import _save as log_calls
from bot.schedule.meetings import group_zone
from storage.digest.tables import DigestDraft, DraftStatus

if TYPE_CHECKING:
    from bot.infra.runtime import Runtime


@dataclass(frozen=True)
class Drafted:
    view: DraftView | None  # None: an empty week, nothing drafted
    stats: RunStats = field(default_factory=RunStats)
    offline: int = 0


async def compose_week(
    bot: Runtime, *, group_id: int, week: Week, force: bool = False
) -> tuple[WeekContent, str, str, RunStats]:
    """Gather, summarise and render a week (no draft saved)."""
    content = await bot.db(
        gather_week, group_id=group_id, start=week.start, end=week.end, now=bot.clock.now()
    )
    if content.empty:
        return content, "", "", RunStats()
    extras = Extras()
    intro_args: dict[str, Any] = {
        "kind": "week",
        "label": week.label,
        "papers": [f.paper for f in content.featured],
        "takeaways": [t for f in content.featured for t in f.takeaways],
        "force": force,
    }
    # The intro is asked in the first paper's call: no call, and no round of
    # waiting on the model, of its own. Asked on its own only when no paper
    # needed a call or that answer had none.
    along = await intro_to_ask_along(bot, **intro_args)
    summaries, stats = await summarize_papers(
        content.inputs(), db=bot.db, llm=llm_for(bot), now=bot.clock.now(), force=force, intro=along
    )
    intro = await period_intro(bot, **intro_args, extras=extras, asked_along=along)
    stats.absorb(extras)  # the intro's call, tokens and drops count in the cost line
    if extras.records:  # and its call is logged with the run's, like every LLM call
        await bot.db(
            log_calls,
            run_id=stats.run_id,
            now=bot.clock.now(),
            fresh=[],
            calls=[(None, "period_intro", rec) for rec in extras.records],
            replace=False,
            purpose="intro",
        )
    title, body = render_week(week, content, summaries, intro)
    return content, title, body, stats


async def draft_week(bot: Runtime, *, group_id: int, week: Week, actor_id: str) -> Drafted:
    """Draft a week's post as revision 1 of a new draft; an empty week drafts nothing."""
    content, title, body, stats = await compose_week(bot, group_id=group_id, week=week)
    if content.empty:
        return Drafted(None)
    view = await bot.db(
        new_draft,
        group_id=group_id,
        week=week.label,
        actor_id=actor_id,
        title=title,
        body=body,
        stats=stats,
        now=bot.clock.now(),
    )
    return Drafted(view, stats, stats.offline)


async def regenerate(bot: Runtime, *, draft_id: int, actor_id: str) -> DraftView:
    """A fresh revision from the week's current data, asking the LLM anew."""
    view = await bot.db(load_view, draft_id=draft_id)
    if view is None:
        raise DraftClosed("missing")
    if view.draft.status != DraftStatus.DRAFT:
        raise DraftClosed(view.draft.status)
    tz = await bot.db(group_zone, group_id=view.draft.group_id)
    week = Week.parse(view.draft.week, now=bot.clock.now(), tz=tz)
    content, title, body, stats = await compose_week(
        bot, group_id=view.draft.group_id, week=week, force=True
    )
    if content.empty:
        title, body = view.revision.title, view.revision.body
    return await bot.db(
        add_revision,
        draft_id=draft_id,
        title=title,
        body=body,
        source="regenerated",
        author=actor_id,
        now=bot.clock.now(),
        stats=stats,
    )


def cost_line(draft: DigestDraft) -> str:
    """Revision, calls, tokens, cached summaries reused, and what the grounding
    check dropped from the newest run's answers (stored on the draft)."""
    tokens = draft.prompt_tokens + draft.completion_tokens
    parts = [
        f"Revision {draft.revision}",
        plural(draft.llm_calls, "LLM call"),
        f"{tokens:,} tokens ({draft.prompt_tokens:,} in, {draft.completion_tokens:,} out)",
    ]
    if draft.summaries_reused:
        parts.append(
            plural(draft.summaries_reused, "cached summary", "cached summaries") + " reused"
        )
    drops = Drops(draft.quotes_dropped, draft.sentences_dropped)
    if drops:
        parts.append(drops.note())
    return " · ".join(parts)


def draft_reply(view: DraftView, *, note: str = "", replace: bool = False) -> Reply:
    """The organizer's private preview with Approve / Edit / Regenerate / Discard."""
    draft = view.draft
    assert draft.id is not None
    value = button_value(draft.id, view.revision.number)
    blocks: list[Block] = []
    if note:
        blocks.append(Context(note))
    blocks.append(
        Context(
            f"Draft of the weekly post for {draft.week} — only you can see this until it "
            "is approved."
        )
    )
    blocks.append(Header(view.revision.title))
    blocks.extend(body_blocks(view.revision.body))
    blocks.append(Context(cost_line(draft)))
    blocks.append(
        Buttons(
            (
                Button("Approve & publish", APPROVE, value, "primary"),
                Button("Edit", EDIT, value),
                Button("Regenerate", REGENERATE, value),
                Button("Discard", DISCARD, value, "danger"),
            )
        )
    )
    return Reply(
        blocks=tuple(blocks),
        private=True,
        replace=replace,
        long_form=True,
        fallback_text=f"Draft: {view.revision.title}",
    )
