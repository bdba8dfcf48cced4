"""self-service: requests, notifications, contact addresses, calendar tokens; segment
activities up to 32 characters (voluntary_time_off)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('segments', schema=None) as batch_op:
        batch_op.alter_column('activity', existing_type=sa.String(length=16),
                              type_=sa.String(length=32), existing_nullable=False)
    op.create_table('staff_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('agent_id', sa.String(length=100), nullable=False),
    sa.Column('other_agent_id', sa.String(length=100), nullable=True),
    sa.Column('schedule_id', sa.Integer(), nullable=False),
    sa.Column('change', sa.JSON(), nullable=False),
    sa.Column('effect', sa.JSON(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('hours', sa.Double(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('applied_version_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_staff_requests_agent_id_agents')),
    sa.ForeignKeyConstraint(['other_agent_id'], ['agents.id'], name=op.f('fk_staff_requests_other_agent_id_agents')),
    sa.ForeignKeyConstraint(['schedule_id'], ['schedules.id'], name=op.f('fk_staff_requests_schedule_id_schedules'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_staff_requests_decided_by_users')),
    sa.ForeignKeyConstraint(['applied_version_id'], ['schedule_versions.id'], name=op.f('fk_staff_requests_applied_version_id_schedule_versions'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_requests'))
    )
    with op.batch_alter_table('staff_requests', schema=None) as batch_op:
        batch_op.create_index('ix_staff_requests_status', ['status', 'agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_staff_requests_agent_id'), ['agent_id'], unique=False)
    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('read_at', sa.DateTime(), nullable=True),
    sa.Column('emailed_to', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['request_id'], ['staff_requests.id'], name=op.f('fk_notifications_request_id_staff_requests'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_user', ['user_id', 'id'], unique=False)
    op.create_table('contact_addresses',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_contact_addresses_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_contact_addresses'))
    )
    op.create_table('calendar_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.String(length=100), nullable=False),
    sa.Column('token_sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_calendar_tokens_agent_id_agents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_tokens')),
    sa.UniqueConstraint('token_sha256', name=op.f('uq_calendar_tokens_token_sha256'))
    )
    with op.batch_alter_table('calendar_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_tokens_agent_id'), ['agent_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('calendar_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendar_tokens_agent_id'))
    op.drop_table('calendar_tokens')
    op.drop_table('contact_addresses')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_user')
    op.drop_table('notifications')
    with op.batch_alter_table('staff_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_requests_agent_id'))
        batch_op.drop_index('ix_staff_requests_status')
    op.drop_table('staff_requests')
    with op.batch_alter_table('segments', schema=None) as batch_op:
        batch_op.alter_column('activity', existing_type=sa.String(length=32),
                              type_=sa.String(length=16), existing_nullable=False)
