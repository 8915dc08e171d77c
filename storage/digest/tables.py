"""Tables of the summaries and weekly digest area.

* ``llm_calls``: one row per HTTP attempt at the LLM, with its token usage, so
  the organizer sees what each draft cost and operators can audit spend.
* ``paper_summaries``: the cache of per-paper summaries, keyed by everything
  that would change the output (paper version, prompt hash, model, takeaways).
* ``digest_drafts`` / ``digest_revisions``: a week's post, every revision kept;
  publishing is claimed by a conditional update on the draft and a unique index
  per group and week, so a post goes out at most once.
* ``digest_post_parts``: each message of a published (split) post, recorded as
  soon as the platform took it, so an interrupted publication posts only the rest.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field

from storage.columns import Table, empty_list, partial_unique_index
from storage.columns import ts as _ts


class DraftStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHING = "publishing"  # claimed by one approver; being posted
    PUBLISHED = "published"
    DISCARDED = "discarded"


#: Statuses under which a week counts as published (or about to be) for a group.
CLAIMED_STATUSES = (DraftStatus.PUBLISHING, DraftStatus.PUBLISHED)


class LlmCall(Table, table=True):
    """One request to the LLM endpoint (each retry is its own row)."""

    __tablename__ = "llm_calls"

    id: int | None = Field(default=None, primary_key=True)
    #: Groups the calls of one drafting run (a draft refers to it).
    run_id: str = Field(max_length=40, index=True)
    paper_id: int | None = Field(default=None, foreign_key="papers.id")
    purpose: str = Field(default="tldr", max_length=40)
    model: str = Field(max_length=200)
    prompt_hash: str = Field(max_length=40)
    #: ok | rate_limited | server_error | timeout | connection_error |
    #: rejected_format | invalid_output | error
    outcome: str = Field(max_length=32)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    latency_ms: int = 0
    error: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False, default=""))
    created_at: datetime = Field(sa_column=_ts())


class PaperSummary(Table, table=True):
    """A paper's tl;dr, reused while its cache key is unchanged."""

    __tablename__ = "paper_summaries"

    id: int | None = Field(default=None, primary_key=True)
    cache_key: str = Field(max_length=64, unique=True)
    paper_id: int = Field(foreign_key="papers.id", index=True)
    paper_version: int | None = None
    prompt_hash: str = Field(max_length=40)
    model: str = Field(max_length=200)
    takeaways_hash: str = Field(max_length=64)
    #: llm | extractive
    source: str = Field(max_length=16)
    tldr: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    key_insights: list[str] = Field(
        default_factory=empty_list, sa_column=sa.Column(sa.JSON, nullable=False)
    )
    why_it_matters: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    created_at: datetime = Field(sa_column=_ts())


class DigestDraft(Table, table=True):
    """A week's "This Week in ML" post from draft to publication."""

    __tablename__ = "digest_drafts"
    __table_args__ = (
        # At most one published (or publishing) post per group and week, even
        # when two organizers approve two drafts at the same instant.
        partial_unique_index(
            "uq_digest_drafts_group_week_published",
            "group_id",
            "week",
            where="status IN ('publishing', 'published')",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="groups.id", index=True)
    week: str = Field(max_length=10)  # ISO week, e.g. 2026-W47
    status: str = Field(default=DraftStatus.DRAFT, max_length=16)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=_ts())
    revision: int = 0  # number of the newest revision
    run_id: str = Field(default="", max_length=40)
    llm_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    summaries_reused: int = 0
    #: What the grounding check removed from the newest run's model answers
    #: (quotes not found verbatim; sentences adding a name, number or link).
    quotes_dropped: int = 0
    sentences_dropped: int = 0
    approved_by: str | None = Field(default=None, max_length=64)
    approved_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    published_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    published_channel: str | None = Field(default=None, max_length=64)
    published_message: str | None = Field(default=None, max_length=64)
    #: While publishing: the revision being posted, the claim's token, and when
    #: the claim lapses (a publisher killed mid-way stops renewing it, so another
    #: press or the start-up recovery can take over and post what is missing).
    publishing_revision: int | None = None
    publishing_token: str | None = Field(default=None, max_length=40)
    publishing_until: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class DigestRevision(Table, table=True):
    """One version of a draft's text (neutral markup); never updated or deleted."""

    __tablename__ = "digest_revisions"
    __table_args__ = (sa.UniqueConstraint("draft_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    draft_id: int = Field(foreign_key="digest_drafts.id", index=True)
    number: int
    #: generated | regenerated | edited
    source: str = Field(max_length=16)
    author: str = Field(max_length=64)
    title: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    body: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    created_at: datetime = Field(sa_column=_ts())


class DigestPostPart(Table, table=True):
    """One message of a post, recorded right after the platform accepted it."""

    __tablename__ = "digest_post_parts"
    __table_args__ = (sa.UniqueConstraint("draft_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    draft_id: int = Field(foreign_key="digest_drafts.id", index=True)
    revision: int
    number: int  # 1-based
    of: int  # how many parts the post has
    channel: str = Field(max_length=64)
    message_id: str | None = Field(default=None, max_length=64)
    posted_at: datetime = Field(sa_column=_ts())


class LlmAnswer(Table, table=True):
    """The cache of the model's answers to the period prompts (the intro of a
    week, month or quarter; a monthly "Why →"). The key hashes the model and
    the whole rendered prompt, so any change to its inputs or to the prompt
    file asks anew, as the tl;dr cache does; Regenerate bypasses it."""

    __tablename__ = "llm_answers"

    id: int | None = Field(default=None, primary_key=True)
    cache_key: str = Field(max_length=64, unique=True)
    purpose: str = Field(max_length=40)
    model: str = Field(max_length=200)
    answer: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    created_at: datetime = Field(sa_column=_ts())
