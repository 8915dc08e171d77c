"""Questions about the digest's tables asked in SQL, without loading their
models (:mod:`storage.digest.tables`): the start of every process asks one."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session

_PUBLISHING = sa.text("SELECT 1 FROM digest_drafts WHERE status = 'publishing' LIMIT 1")


def any_publishing(*, session: Session) -> bool:
    """Whether a draft is being published (claimed and not yet finished):
    the recovery at start has work only then."""
    return session.execute(_PUBLISHING).first() is not None
