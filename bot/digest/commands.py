"""/digest and the draft's buttons: Approve & publish, Edit, Regenerate, Discard.

Everything here is for organizers; anyone else gets a private "only organizers
can ..." answer and nothing changes. Which group a button acts on comes from the
draft, and the router refuses a button pressed outside that group's channel
(:mod:`bot.groups.places`), so a forwarded button cannot act on another group's draft.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.chat.events import Action, Command
from bot.chat.markup import channel as markup_channel
from bot.chat.markup import esc
from bot.chat.messenger import DeliveryError
from bot.chat.replies import Context, Form, FormField, Reply, error
from bot.digest import drafts, publishing, revisions, weekly
from bot.digest.drafts import ButtonValue
from bot.digest.periods import PeriodError, Week
from bot.digest.revisions import DraftView
from bot.groups.context import resolve
from bot.groups.members import is_organizer
from bot.infra.runtime import Ctx
from bot.schedule.meetings import group_zone
from storage.digest.tables import DraftStatus

log = logging.getLogger(__name__)

#: Discord modals hold 5 inputs and Slack inputs 3,000 characters: a title plus
#: four parts of the body fit both.
EDIT_PARTS = 4
PART_CHARS = 3000
TITLE_CHARS = 150


def _only(what: str) -> Reply:
    return error(
        f"Only organizers can {what}. Ask an organizer of this group, or have one add you "
        "with READGROUP_ORGANIZERS."
    )


def _when(t: datetime | None) -> str:
    return drafts.when(t)


async def draft(ctx: Ctx) -> Reply:
    cmd = ctx.event
    assert isinstance(cmd, Command)
    bot = ctx.bot
    now = bot.clock.now()
    who = await bot.db(resolve, actor=cmd.actor, place=cmd.place, settings=bot.settings, now=now)
    if not who.organizer:
        return _only("draft the weekly post")
    assert who.group.id is not None
    # weeks are cut at midnight in the group's time zone, not in UTC
    tz = await bot.db(group_zone, group_id=who.group.id)
    try:
        week = Week.parse(cmd.text, now=now, tz=tz)
    except PeriodError as exc:
        return error(esc(str(exc)))
    state = await bot.db(drafts.week_state, group_id=who.group.id, week=week.label)
    if state is not None:
        text = drafts.published_week_text(state, now=now, next_week=_next(week))
        interrupted = state.draft.status == DraftStatus.PUBLISHING and not drafts.lease_live(
            state.draft, now
        )
        if interrupted and state.draft.id is not None:
            view = await bot.db(revisions.load_view, draft_id=state.draft.id)
            if view is not None:
                return weekly.draft_reply(view, note=text)
        return error(text)
    result = await weekly.draft_week(
        bot, group_id=who.group.id, week=week, actor_id=cmd.actor.user_id
    )
    if result.view is None:
        previous = week.previous().label
        return error(
            f"Nothing to draft for {week.label} ({esc(week.date_label)}): no sessions and no "
            f"proposals that week. Try another week, e.g. `/digest {previous}`."
        )
    note = ""
    if result.offline:
        note = (
            f"{result.offline} summar{'ies are' if result.offline != 1 else 'y is'} extractive "
            "(offline): the LLM was not configured or did not answer. Regenerate to try again."
        )
    return weekly.draft_reply(result.view, note=note)


def _next(week: Week) -> str:
    return Week.containing(week.end, week.tz).label


async def _organizer_view(
    ctx: Ctx, what: str
) -> tuple[DraftView | None, ButtonValue | None, Reply | None]:
    """The draft a button names (and the revision it was shown with), if the
    actor organizes its group."""
    action = ctx.event
    assert isinstance(action, Action)
    button = drafts.parse_value(action.value)
    if button is None:
        return None, None, error("That draft button is broken; run `/digest` again.")
    view = await ctx.bot.db(revisions.load_view, draft_id=button.draft_id)
    if view is None:
        return None, None, error("That draft no longer exists; run `/digest` again.")
    if not is_organizer(
        actor=action.actor,
        group=view.group,
        configured=ctx.bot.settings.organizers,
        workspace=action.place.workspace,
    ):
        return None, None, _only(what)
    return view, button, None


async def _open_view(ctx: Ctx, what: str) -> tuple[DraftView | None, Reply | None]:
    """The open draft a button names, for an organizer of its group pressing
    a button of its newest revision; otherwise the answer that says why not."""
    view, button, refusal = await _organizer_view(ctx, what)
    if refusal is not None:
        return None, refusal
    assert view is not None and button is not None
    if view.draft.status != DraftStatus.DRAFT:
        return None, _closed(view)
    stale = _stale(view, button)
    if stale is not None:
        return None, stale
    return view, None


def _stale(view: DraftView, button: ButtonValue) -> Reply | None:
    """The newest revision with a note, when an open draft's button is older."""
    if view.draft.status != DraftStatus.DRAFT or not drafts.is_stale(button, view.draft):
        return None
    return weekly.draft_reply(view, note=drafts.stale_note(button, view.revision))


def _closed(view: DraftView, now: datetime | None = None) -> Reply:
    d = view.draft
    if d.status == DraftStatus.PUBLISHED:
        return error(
            f"This post was already published by {esc(d.approved_by or '?')} on "
            f"{_when(d.published_at or d.approved_at)}; nothing changed."
        )
    if d.status == DraftStatus.PUBLISHING:
        return error(
            f"This post is being published right now (approved by {esc(d.approved_by or '?')} "
            f"at {_when(d.approved_at)}); nothing else to do."
        )
    return error(
        f"This draft was discarded. Run `/digest {d.week}` to start a new one "
        "(its revisions are kept)."
    )


async def _other_draft(ctx: Ctx, view: DraftView) -> Reply:
    """Approve refused because another draft of the week holds the claim."""
    now = ctx.bot.clock.now()
    d = view.draft
    state = await ctx.bot.db(drafts.week_state, group_id=d.group_id, week=d.week)
    if state is None or state.draft.status == DraftStatus.PUBLISHED:
        return error(
            f"The post for {d.week} was already published from another draft; nothing changed."
        )
    if drafts.lease_live(state.draft, now):
        return error(
            f"Another draft of {d.week} is being published right now; nothing changed. "
            f"Run `/digest {d.week}` in a minute to see it."
        )
    return error(
        f"Another draft of {d.week} was approved and its publishing was interrupted; nothing "
        f"changed. Run `/digest {d.week}` to finish publishing that one."
    )


def _parts_word(n: int) -> str:
    return f"{n} part{'s' if n != 1 else ''}"


async def approve(ctx: Ctx) -> Reply:
    action = ctx.event
    assert isinstance(action, Action)
    view, button, refusal = await _organizer_view(ctx, "approve and publish the weekly post")
    if refusal is not None:
        return refusal
    assert view is not None and button is not None and view.draft.id is not None
    stale = _stale(view, button)
    if stale is not None:
        return stale
    bot = ctx.bot
    claim = await bot.db(
        publishing.claim,
        draft_id=view.draft.id,
        revision=button.revision or view.draft.revision,
        actor_id=action.actor.user_id,
        now=bot.clock.now(),
        lease=bot.publish_lease,
    )
    if not claim.ok:
        fresh = claim.view or view
        if claim.reason == "week_published":
            return await _other_draft(ctx, fresh)
        if claim.reason == "stale" and button.revision is not None:
            return weekly.draft_reply(fresh, note=drafts.stale_note(button, fresh.revision))
        return _closed(fresh)
    assert claim.view is not None and claim.place is not None and claim.revision is not None
    rev = claim.revision
    channel = markup_channel(claim.place.channel)
    try:
        done = await publishing.publish(bot, claim)
    except Exception as exc:
        log.warning("publishing draft %s failed: %s", view.draft.id, exc)
        status = await bot.db(
            publishing.give_up, draft_id=view.draft.id, token=claim.token, now=bot.clock.now()
        )
        why = str(exc) if isinstance(exc, DeliveryError) else type(exc).__name__
        if status == DraftStatus.DRAFT:
            return error(
                f"I could not post to the announcement channel ({esc(why)}). The draft is "
                "unchanged; press Approve & publish again in a minute."
            )
        posted = await bot.db(publishing.posted_count, draft_id=view.draft.id)
        total = len(publishing.split_post(rev.title, rev.body))
        return error(
            f"I posted {posted} of {total} parts of the post to {channel}, then could not post "
            f"the rest ({esc(why)}). Press Approve & publish again to post the remaining "
            f"{_parts_word(total - posted)}; what is posted already is not posted again."
        )
    now = bot.clock.now()
    what = f"“{esc(rev.title)}” (revision {rev.number})"
    if claim.resumed:
        text = (
            f"Finished publishing {what} to {channel}, which had been interrupted: "
            f"{publishing.resumed_note(done)}. Approved by "
            f"{esc(claim.view.draft.approved_by or '?')}; finished on {_when(now)}."
        )
    else:
        split = f" in {_parts_word(done.total)}" if done.total > 1 else ""
        text = (
            f"Published {what} to {channel}{split}, approved by {esc(action.actor.display)} on "
            f"{_when(now)}."
        )
    return Reply(blocks=(Context(text),), private=True, replace=True)


async def edit(ctx: Ctx) -> Reply:
    view, refusal = await _open_view(ctx, "edit the weekly post")
    if refusal is not None:
        return refusal
    assert view is not None
    parts = publishing.cut_at_paragraphs(view.revision.body, PART_CHARS)
    if len(parts) > EDIT_PARTS or any(len(p) > PART_CHARS for p in parts):
        return error(
            "This post is too long to edit in a form. Use Regenerate, or export it with "
            f"`readgroup export digest --week {view.draft.week} --format md` and shorten it."
        )
    fields = [FormField("title", "Title", view.revision.title[:TITLE_CHARS], False, TITLE_CHARS)]
    for i in range(EDIT_PARTS):
        if i < len(parts) or i == 0:
            fields.append(
                FormField(
                    f"body{i + 1}",
                    "Post" if len(parts) == 1 else f"Post, part {i + 1} of {len(parts)}",
                    parts[i] if i < len(parts) else "",
                    True,
                    PART_CHARS,
                )
            )
    assert view.draft.id is not None
    return Reply(
        blocks=(Context("Opening the editor for the draft."),),
        private=True,
        form=Form(
            title="Edit the weekly post",
            action=weekly.EDIT_SAVE,
            value=drafts.button_value(view.draft.id, view.revision.number),
            fields=tuple(fields),
            submit_label="Save revision",
        ),
    )


async def save_edit(ctx: Ctx) -> Reply:
    action = ctx.event
    assert isinstance(action, Action)
    view, button, refusal = await _organizer_view(ctx, "edit the weekly post")
    if refusal is not None:
        return refusal
    assert view is not None and button is not None and view.draft.id is not None
    title = " ".join(action.field("title", view.revision.title).split()) or view.revision.title
    parts = [action.field(f"body{i + 1}").strip() for i in range(EDIT_PARTS)]
    body = "\n\n".join(p for p in parts if p)
    if not body:
        return error("The post came back empty, so I kept the previous revision. Edit it again.")
    if title == view.revision.title and body == view.revision.body.strip():
        return weekly.draft_reply(view, note="No changes; the revision is unchanged.")
    try:
        new = await ctx.bot.db(
            revisions.add_revision,
            draft_id=view.draft.id,
            title=title,
            body=body,
            source="edited",
            author=action.actor.user_id,
            now=ctx.bot.clock.now(),
        )
    except revisions.DraftClosed:
        fresh = await ctx.bot.db(revisions.load_view, draft_id=view.draft.id)
        return _closed(fresh or view)
    note = f"Saved your edit as revision {new.revision.number}."
    if button.revision is not None and button.revision != view.revision.number:
        # Someone made a revision while the form was open: the edit wins (it
        # is what the user typed), and they are told what it replaced.
        note += (
            f" You edited revision {button.revision}; {drafts.revision_line(view.revision)} "
            "was made meanwhile and is kept in the history."
        )
    return weekly.draft_reply(new, note=note)


async def regenerate(ctx: Ctx) -> Reply:
    view, refusal = await _open_view(ctx, "regenerate the weekly post")
    if refusal is not None:
        return refusal
    assert view is not None
    if view.revision.source == "edited":
        return drafts.confirm_regenerate(draft=view.draft, edited=view.revision)
    return await _regenerate(ctx, view)


async def _regenerate(ctx: Ctx, view: DraftView, *, replace: bool = False) -> Reply:
    action = ctx.event
    assert isinstance(action, Action) and view.draft.id is not None
    try:
        new = await weekly.regenerate(
            ctx.bot, draft_id=view.draft.id, actor_id=action.actor.user_id
        )
    except revisions.DraftClosed:
        fresh = await ctx.bot.db(revisions.load_view, draft_id=view.draft.id)
        return _closed(fresh or view)
    note = f"Regenerated as revision {new.revision.number}."
    if view.revision.source == "edited":
        note += (
            f" Your edit is kept in the history as revision {view.revision.number}; "
            f"this one, revision {new.revision.number}, is the text Approve publishes."
        )
    return weekly.draft_reply(new, note=note, replace=replace)


async def regenerate_anyway(ctx: Ctx) -> Reply:
    """The organizer confirmed: regenerate over their manual edit."""
    view, refusal = await _open_view(ctx, "regenerate the weekly post")
    if refusal is not None:
        return refusal
    assert view is not None
    return await _regenerate(ctx, view, replace=True)


async def keep_edit(ctx: Ctx) -> Reply:
    """The organizer kept their edit: show it again, with its buttons."""
    view, refusal = await _open_view(ctx, "regenerate the weekly post")
    if refusal is not None:
        return refusal
    assert view is not None
    return weekly.draft_reply(
        view,
        note=f"Kept your edit: revision {view.revision.number} is still the text to approve; "
        "nothing was regenerated.",
        replace=True,
    )


async def discard(ctx: Ctx) -> Reply:
    view, _button, refusal = await _organizer_view(ctx, "discard the weekly post")
    if refusal is not None:
        return refusal
    assert view is not None and view.draft.id is not None
    if not await ctx.bot.db(revisions.discard, draft_id=view.draft.id):
        fresh = await ctx.bot.db(revisions.load_view, draft_id=view.draft.id)
        return _closed(fresh or view)
    return Reply(
        blocks=(
            Context(
                f"Discarded the draft for {view.draft.week} ({view.draft.revision} revision"
                f"{'s' if view.draft.revision != 1 else ''} kept). Run `/digest {view.draft.week}` "
                "to start again."
            ),
        ),
        private=True,
        replace=True,
    )
