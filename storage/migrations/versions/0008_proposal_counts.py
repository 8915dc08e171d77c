"""proposal counts: each group's number of proposals per status, kept by
triggers on proposals, so /queue and /history read their totals instead of
counting the group's index entries; filled from the proposals already stored

Revision ID: 0008_proposal_counts
Revises: 0007_search_index
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_proposal_counts"
down_revision = "0007_search_index"
branch_labels = None
depends_on = None

_ADD_NEW = (
    "INSERT INTO proposal_counts (group_id, status, n) VALUES ({new}.group_id, {new}.status, 1) "
    "ON CONFLICT (group_id, status) DO UPDATE SET n = proposal_counts.n + 1"
)
_TAKE_OLD = (
    "UPDATE proposal_counts SET n = n - 1 WHERE group_id = {old}.group_id AND status = {old}.status"
)

# PostgreSQL: a move between statuses touches the two rows in key order, so
# two opposite moves in one group at once wait for each other, never deadlock.
_PG_FUNCTION = f"""
CREATE FUNCTION proposals_count_status() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_ADD_NEW.format(new="NEW")};
    ELSIF TG_OP = 'DELETE' THEN
        {_TAKE_OLD.format(old="OLD")};
    ELSIF (NEW.group_id, NEW.status) < (OLD.group_id, OLD.status) THEN
        {_ADD_NEW.format(new="NEW")};
        {_TAKE_OLD.format(old="OLD")};
    ELSE
        {_TAKE_OLD.format(old="OLD")};
        {_ADD_NEW.format(new="NEW")};
    END IF;
    RETURN NULL;
END
$$
"""
_PG_TRIGGERS = (
    "CREATE TRIGGER proposals_count AFTER INSERT OR DELETE ON proposals "
    "FOR EACH ROW EXECUTE FUNCTION proposals_count_status()",
    "CREATE TRIGGER proposals_count_move AFTER UPDATE OF group_id, status ON proposals "
    "FOR EACH ROW WHEN (OLD.group_id IS DISTINCT FROM NEW.group_id "
    "OR OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION proposals_count_status()",
)
_SQLITE_TRIGGERS = (
    f"""
CREATE TRIGGER proposal_counts_insert AFTER INSERT ON proposals BEGIN
    {_ADD_NEW.format(new="new")};
END
""",
    f"""
CREATE TRIGGER proposal_counts_delete AFTER DELETE ON proposals BEGIN
    {_TAKE_OLD.format(old="old")};
END
""",
    f"""
CREATE TRIGGER proposal_counts_update AFTER UPDATE OF group_id, status ON proposals
WHEN old.group_id IS NOT new.group_id OR old.status IS NOT new.status BEGIN
    {_TAKE_OLD.format(old="old")};
    {_ADD_NEW.format(new="new")};
END
""",
)
_BACKFILL = (
    "INSERT INTO proposal_counts (group_id, status, n) "
    "SELECT group_id, status, count(*) FROM proposals GROUP BY group_id, status"
)


def _run(sql: str) -> None:
    op.get_bind().exec_driver_sql(sql)


def upgrade() -> None:
    op.create_table(
        "proposal_counts",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("group_id", "status"),
    )
    if op.get_bind().dialect.name == "postgresql":
        _run(_PG_FUNCTION)
        for trigger in _PG_TRIGGERS:
            _run(trigger)
    else:
        for trigger in _SQLITE_TRIGGERS:
            _run(trigger)
    _run(_BACKFILL)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _run("DROP TRIGGER proposals_count_move ON proposals")
        _run("DROP TRIGGER proposals_count ON proposals")
        _run("DROP FUNCTION proposals_count_status()")
    else:
        for name in ("proposal_counts_insert", "proposal_counts_delete", "proposal_counts_update"):
            _run(f"DROP TRIGGER {name}")
    op.drop_table("proposal_counts")
