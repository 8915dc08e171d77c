"""Publishing an approved draft: a lease that lapses, parts recorded as they
go out, and recovery of a publication that was interrupted.

Approving claims the draft with a conditional update that also sets a lease
(``publishing_until``) and a token. The post is cut into parts the core
chooses (each small enough to be one message on every platform), and each
part is recorded in ``digest_post_parts`` as soon as the platform took it,
while the lease is renewed. If the process dies mid-way (a kill while Slack
makes us wait after a 429), the lease lapses; the next Approve, or the
recovery at start, takes the draft over and posts only the parts that are
not recorded. The draft is ``published`` only when every part is recorded.

A part that the platform took in the instant before the kill, but that was
not recorded yet (Slack took it and its answer was still on the way), would
be posted again by the taker: platforms offer no idempotency key for a
message. So each part carries a tag (Slack message metadata), and a taker
first asks the platform whether a part it has no record of went out
(:func:`bot.chat.messenger.posted_before`); only a platform that cannot tell gets
the part again.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.chat.events import Place
from bot.chat.markup import channel, esc
from bot.chat.replies import Context, Header, Reply
from bot.digest.drafts import lease_live
from bot.digest.post_tags import part_tag, went_out
from bot.digest.render import body_blocks
from bot.digest.revisions import DraftView, load_view
from bot.groups.places import announcement_place_of
from bot.infra.clock import as_utc
from storage.digest import publishing_queries as pq
from storage.digest import queries
from storage.digest.tables import DigestDraft, DigestPostPart, DigestRevision, DraftStatus
from storage.groups.tables import Group

if TYPE_CHECKING:
    from bot.infra.runtime import Runtime

log = logging.getLogger(__name__)

#: How long a claim to publish holds without being renewed. Renewed before
#: and after each part and every HEARTBEAT_SECONDS while a part is being sent
#: (Slack may make us wait out several 429s), so only a publisher that stopped
#: (killed) loses it.
LEASE = timedelta(minutes=2)
HEARTBEAT_SECONDS = 30.0
#: Characters of body per part. Each part is recorded as one message, so it
#: must stay one message on every platform; this size does on Slack and on
#: Discord (their adapters cut it into sections or embeds).
PART_CHARS = 3800
#: Who takes over when nobody pressed anything (the recovery at start).
RECOVERY = "recovery"


def cut_at_paragraphs(body: str, limit: int | None = None) -> list[str]:
    """The body in chunks of whole paragraphs, each at most ``limit``
    characters unless one paragraph alone is longer; none for an empty body.
    Both the published parts and the edit form's inputs are cut this way
    (``limit`` defaults to :data:`PART_CHARS` as it is at the call)."""
    limit = PART_CHARS if limit is None else limit
    chunks: list[str] = []
    chunk = ""
    for para in re.split(r"\n\s*\n", body.strip()):
        para = para.strip()
        if not para:
            continue
        candidate = f"{chunk}\n\n{para}" if chunk else para
        if len(candidate) > limit and chunk:
            chunks.append(chunk)
            chunk = para
        else:
            chunk = candidate
    if chunk:
        chunks.append(chunk)
    return chunks


def split_post(title: str, body: str) -> list[Reply]:
    """The public post as parts cut at paragraph boundaries; the title heads
    the first, and each part's fallback text says which part it is."""
    chunks = cut_at_paragraphs(body) or [""]
    total = len(chunks)
    parts: list[Reply] = []
    for n, text in enumerate(chunks, 1):
        head = (Header(title),) if n == 1 else ()
        parts.append(
            Reply(
                blocks=(*head, *body_blocks(text)),
                long_form=True,
                fallback_text=title if total == 1 else f"({n}/{total}) {title}",
            )
        )
    return parts


@dataclass(frozen=True)
class Claim:
    ok: bool
    #: why not: published | publishing | discarded | missing | week_published | stale
    reason: str = ""
    view: DraftView | None = None
    place: Place | None = None
    token: str = ""
    revision: DigestRevision | None = None
    posted: frozenset[int] = field(default_factory=frozenset)
    #: True when this claim took over a publication that was interrupted.
    resumed: bool = False


def announcement_place(group: Group, session: Session) -> Place:
    """Where the post goes (:func:`bot.groups.places.announcement_place_of`)."""
    return announcement_place_of(session, group)


def posted_count(*, session: Session, draft_id: int) -> int:
    return len(pq.posted_part_numbers(session, draft_id=draft_id))


def claim(
    *,
    session: Session,
    draft_id: int,
    revision: int,
    actor_id: str,
    now: datetime,
    lease: timedelta = LEASE,
) -> Claim:
    """Take the right to publish ``revision`` of a draft, or to finish its
    interrupted publication once the lease has lapsed. One conditional update
    each way, so two presses (or two replicas) never both hold it; the unique
    index stops a second draft of a week already published or publishing."""
    draft = session.get(DigestDraft, draft_id)
    if draft is None:
        return Claim(False, "missing")
    token = uuid.uuid4().hex
    until = now + lease
    resumed = False
    if draft.status == DraftStatus.DRAFT:
        if draft.revision != revision:
            return Claim(False, "stale", load_view(session=session, draft_id=draft_id))
        try:
            with session.begin_nested():
                changed = pq.claim_open_draft(
                    session,
                    draft_id=draft_id,
                    revision=revision,
                    actor_id=actor_id,
                    now=now,
                    token=token,
                    until=until,
                )
        except IntegrityError:
            return Claim(False, "week_published", load_view(session=session, draft_id=draft_id))
    elif draft.status == DraftStatus.PUBLISHING and not lease_live(draft, now):
        # The publisher stopped (killed, or gave up after posting some parts):
        # take over from exactly the token we saw, so only one taker wins.
        changed = pq.take_over_publishing(
            session,
            draft_id=draft_id,
            token_was=draft.publishing_token,
            token=token,
            until=until,
        )
        resumed = True
    else:
        return Claim(False, draft.status, load_view(session=session, draft_id=draft_id))
    session.expire_all()
    view = load_view(session=session, draft_id=draft_id)
    if view is None:
        return Claim(False, "missing")
    if not changed:
        return Claim(False, view.draft.status, view)
    number = view.draft.publishing_revision or view.draft.revision
    rev = queries.revision_of(session, draft_id=draft_id, number=number)
    assert rev is not None
    return Claim(
        True,
        "",
        view,
        announcement_place(view.group, session),
        token,
        rev,
        pq.posted_part_numbers(session, draft_id=draft_id),
        resumed,
    )


def renew(
    *, session: Session, draft_id: int, token: str, now: datetime, lease: timedelta = LEASE
) -> bool:
    """Extend the lease; False if another publisher took it over meanwhile."""
    return pq.set_lease(session, draft_id=draft_id, token=token, until=now + lease)


def record_part(
    *,
    session: Session,
    draft_id: int,
    revision: int,
    number: int,
    of: int,
    channel: str,
    message_id: str | None,
    token: str,
    now: datetime,
    lease: timedelta = LEASE,
) -> None:
    """The platform took this part: record it (even if the lease was lost
    meanwhile, since it *was* posted) and renew the lease."""
    try:
        with session.begin_nested():
            session.add(
                DigestPostPart(
                    draft_id=draft_id,
                    revision=revision,
                    number=number,
                    of=of,
                    channel=channel,
                    message_id=message_id,
                    posted_at=now,
                )
            )
    except IntegrityError:
        log.warning("part %s of draft %s was recorded twice", number, draft_id)
    renew(session=session, draft_id=draft_id, token=token, now=now, lease=lease)


def finish(*, session: Session, draft_id: int, of: int, now: datetime) -> bool:
    """Published, once every part is recorded."""
    parts = pq.posted_parts(session, draft_id=draft_id)
    if {p.number for p in parts} < set(range(1, of + 1)):
        return False
    first = parts[0]
    return pq.mark_published(
        session, draft_id=draft_id, now=now, channel=first.channel, message_id=first.message_id
    )


def give_up(*, session: Session, draft_id: int, token: str, now: datetime) -> str:
    """Posting failed. With nothing posted the draft is a draft again (approve
    again later); with some parts posted it stays claimed but the lease ends
    now, so the next Approve posts the rest at once. Returns the new status."""
    if not pq.posted_part_numbers(session, draft_id=draft_id):
        pq.release_claim(session, draft_id=draft_id, token=token)
        return DraftStatus.DRAFT
    pq.set_lease(session, draft_id=draft_id, token=token, until=now)
    return DraftStatus.PUBLISHING


class LeaseLost(Exception):
    """Another publisher took the draft over; this one stops posting."""


@dataclass(frozen=True)
class Published:
    total: int
    posted_now: tuple[int, ...]
    message_id: str | None


async def publish(bot: Runtime, c: Claim) -> Published:
    """Post the parts not posted yet, recording each; then mark the draft
    published. Exceptions (the platform refused, the lease was lost, the task
    was cancelled) propagate with every posted part already recorded."""
    assert c.ok and c.view is not None and c.place is not None and c.revision is not None
    draft_id = c.view.draft.id
    assert draft_id is not None
    parts = split_post(c.revision.title, c.revision.body)
    total = len(parts)
    lease = bot.publish_lease
    posted_now: list[int] = []
    first: str | None = None
    for n, part in enumerate(parts, 1):
        if n in c.posted:
            continue
        part = replace(part, tag=part_tag(draft_id, c.revision.number, n))
        if c.resumed and (found := await went_out(bot, c, part.tag)):
            await _record(bot, c, n, total, found, lease)
            continue
        renewed = await bot.db(
            renew, draft_id=draft_id, token=c.token, now=bot.clock.now(), lease=lease
        )
        if not renewed:
            raise LeaseLost(f"draft {draft_id} was taken over by another publisher")
        beat = asyncio.ensure_future(_heartbeat(bot, draft_id, c.token, lease))
        try:
            message_id = await bot.messenger.post(c.place, part)
        finally:
            beat.cancel()
        first = first or message_id
        await _record(bot, c, n, total, message_id, lease)
        posted_now.append(n)
    await bot.db(finish, draft_id=draft_id, of=total, now=bot.clock.now())
    return Published(total, tuple(posted_now), first)


async def _record(
    bot: Runtime, c: Claim, n: int, total: int, message_id: str | None, lease: timedelta
) -> None:
    assert c.view is not None and c.place is not None and c.revision is not None
    await bot.db(
        record_part,
        draft_id=c.view.draft.id,
        revision=c.revision.number,
        number=n,
        of=total,
        channel=c.place.channel,
        message_id=message_id,
        token=c.token,
        now=bot.clock.now(),
        lease=lease,
    )


async def _heartbeat(bot: Runtime, draft_id: int, token: str, lease: timedelta) -> None:
    """Keep the lease while one part is in flight (a wait after a 429)."""
    every = min(HEARTBEAT_SECONDS, lease.total_seconds() / 3)
    while True:
        await asyncio.sleep(every)
        try:
            now = bot.clock.now()
            if not await bot.db(renew, draft_id=draft_id, token=token, now=now, lease=lease):
                return
        except Exception:
            log.warning("could not renew the publishing lease of draft %s", draft_id)


def _interrupted(*, session: Session, now: datetime) -> tuple[list[int], datetime | None]:
    """Drafts whose publication lapsed, and when the next live lease lapses."""
    drafts = pq.publishing_drafts(session)
    # A claim without a token was left by a version that recorded no parts:
    # it may or may not have been posted, so a person decides (Approve).
    lapsed = [
        d.id
        for d in drafts
        if d.id is not None and d.publishing_token is not None and not lease_live(d, now)
    ]
    live = [
        as_utc(d.publishing_until)
        for d in drafts
        if d.publishing_until is not None and lease_live(d, now)
    ]
    return lapsed, min(live) if live else None


async def recover_once(bot: Runtime) -> datetime | None:
    """Finish every publication whose lease lapsed (posting only the missing
    parts) and tell its approver; returns when the next live lease lapses."""
    lapsed, next_check = await bot.db(_interrupted, now=bot.clock.now())
    for draft_id in lapsed:
        draft = await bot.db(load_view, draft_id=draft_id)
        if draft is None:
            continue
        number = draft.draft.publishing_revision or draft.draft.revision
        c = await bot.db(
            claim,
            draft_id=draft_id,
            revision=number,
            actor_id=RECOVERY,
            now=bot.clock.now(),
            lease=bot.publish_lease,
        )
        if not c.ok:
            continue
        try:
            done = await publish(bot, c)
        except Exception as exc:
            log.warning("recovering the publication of draft %s failed: %s", draft_id, exc)
            await bot.db(give_up, draft_id=draft_id, token=c.token, now=bot.clock.now())
            continue
        log.info("finished the interrupted publication of draft %s", draft_id)
        await _tell_approver(bot, c, done)
    return next_check


def resumed_note(done: Published) -> str:
    n = len(done.posted_now)
    if n == 0 and done.total == 1:
        return "it had already been posted, so it was not posted again"
    if n == 0:
        return f"all {done.total} parts had already been posted, so none was posted again"
    if n == done.total:
        return "no part of it was recorded as posted, so I posted it now"
    which = ", ".join(str(x) for x in done.posted_now)
    return (
        f"{done.total - n} of {done.total} parts had already been posted; I posted only the "
        f"missing part{'s' if n != 1 else ''} ({which})"
    )


async def _tell_approver(bot: Runtime, c: Claim, done: Published) -> None:
    assert c.view is not None and c.revision is not None and c.place is not None
    who = c.view.draft.approved_by
    if not who:
        return
    text = (
        f"Publishing “{esc(c.revision.title)}” (revision {c.revision.number}) to "
        f"{channel(c.place.channel)} was interrupted; I finished it after a restart: "
        f"{resumed_note(done)}."
    )
    try:
        await bot.messenger.direct(
            c.view.group.platform, c.view.group.workspace, who, Reply((Context(text),))
        )
    except Exception as exc:
        log.warning("could not tell %s that draft %s was published: %s", who, c.view.draft.id, exc)


async def run_recovery(bot: Runtime) -> None:
    """Finish interrupted publications now, and the ones whose lease is still
    live (another replica, or one killed a moment ago) when it lapses, until
    none is left (started at start by :func:`bot.digest.routes.start_recovery`)."""
    while True:
        try:
            next_check = await recover_once(bot)
        except Exception:
            log.exception("recovering interrupted publications failed")
            return
        if next_check is None:
            return
        delay = (next_check - bot.clock.now()).total_seconds()
        await asyncio.sleep(max(delay, 0.0) + 1.0)
