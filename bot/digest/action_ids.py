"""The digest's button and form ids, in a module of their own so the router
can register them (:mod:`bot.digest.routes`) without loading the feature."""

from __future__ import annotations

APPROVE, EDIT, EDIT_SAVE, REGENERATE, DISCARD = (
    "digest_approve",
    "digest_edit",
    "digest_edit_save",
    "digest_regenerate",
    "digest_discard",
)
REGENERATE_ANYWAY, KEEP_EDIT = "digest_regenerate_anyway", "digest_keep_edit"
