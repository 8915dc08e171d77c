"""schedule: group settings, rotation, aways, sessions, deliveries, discussion

Revision ID: 0002_schedule
Revises: 0001_initial
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "0002_schedule"
down_revision = "0001_initial"
branch_labels = ("schedule",)
depends_on = None


def upgrade() -> None:
    op.create_table('aways',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('first_day', sa.Date(), nullable=False),
    sa.Column('last_day', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], ),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_aways_group_id'), 'aways', ['group_id'], unique=False)
    op.create_table('group_settings',
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('meeting_weekday', sa.Integer(), nullable=True),
    sa.Column('meeting_time', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('reminder_minutes', sa.JSON(), nullable=False),
    sa.Column('nudge_days', sa.Integer(), nullable=False),
    sa.Column('pick_deadline_hours', sa.Integer(), nullable=False),
    sa.Column('takeaways_after_minutes', sa.Integer(), nullable=False),
    sa.Column('announce_channel', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('skip_dates', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], ),
    sa.PrimaryKeyConstraint('group_id')
    )
    op.create_table('rotation_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('joined_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('left_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], ),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('group_id', 'member_id')
    )
    op.create_index(op.f('ix_rotation_members_group_id'), 'rotation_members', ['group_id'], unique=False)
    op.create_table('meeting_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('presenter_member_id', sa.Integer(), nullable=True),
    sa.Column('pinned', sa.Boolean(), nullable=False),
    sa.Column('passed_member_ids', sa.JSON(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=True),
    sa.Column('paper_chosen_by', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('card_message_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('thread_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], ),
    sa.ForeignKeyConstraint(['presenter_member_id'], ['members.id'], ),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('group_id', 'starts_at')
    )
    op.create_index(op.f('ix_meeting_sessions_group_id'), 'meeting_sessions', ['group_id'], unique=False)
    op.create_index(op.f('ix_meeting_sessions_starts_at'), 'meeting_sessions', ['starts_at'], unique=False)
    op.create_index('ix_meeting_sessions_thread', 'meeting_sessions', ['thread_id'], unique=False)
    op.create_table('deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['meeting_sessions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    op.create_index(op.f('ix_deliveries_session_id'), 'deliveries', ['session_id'], unique=False)
    op.create_table('discussion_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('author_user_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('author_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('takeaway', sa.Boolean(), nullable=False),
    sa.Column('takeaway_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['meeting_sessions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('session_id', 'message_id')
    )
    op.create_index(op.f('ix_discussion_messages_message_id'), 'discussion_messages', ['message_id'], unique=False)
    op.create_index(op.f('ix_discussion_messages_session_id'), 'discussion_messages', ['session_id'], unique=False)
    


def downgrade() -> None:
    op.drop_index(op.f('ix_discussion_messages_session_id'), table_name='discussion_messages')
    op.drop_index(op.f('ix_discussion_messages_message_id'), table_name='discussion_messages')
    op.drop_table('discussion_messages')
    op.drop_index(op.f('ix_deliveries_session_id'), table_name='deliveries')
    op.drop_table('deliveries')
    op.drop_index('ix_meeting_sessions_thread', table_name='meeting_sessions')
    op.drop_index(op.f('ix_meeting_sessions_starts_at'), table_name='meeting_sessions')
    op.drop_index(op.f('ix_meeting_sessions_group_id'), table_name='meeting_sessions')
    op.drop_table('meeting_sessions')
    op.drop_index(op.f('ix_rotation_members_group_id'), table_name='rotation_members')
    op.drop_table('rotation_members')
    op.drop_table('group_settings')
    op.drop_index(op.f('ix_aways_group_id'), table_name='aways')
    op.drop_table('aways')
