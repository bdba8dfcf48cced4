"""intraday: re-optimization proposals and their acceptance

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('intraday_proposals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('queue_id', sa.String(length=100), nullable=False),
    sa.Column('schedule_id', sa.Integer(), nullable=False),
    sa.Column('version_number', sa.Integer(), nullable=False),
    sa.Column('as_of', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('accepted', sa.JSON(), nullable=True),
    sa.Column('applied_version_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['queue_id'], ['queues.id'], name=op.f('fk_intraday_proposals_queue_id_queues')),
    sa.ForeignKeyConstraint(['schedule_id'], ['schedules.id'], name=op.f('fk_intraday_proposals_schedule_id_schedules'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_intraday_proposals_created_by_users')),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_intraday_proposals_decided_by_users')),
    sa.ForeignKeyConstraint(['applied_version_id'], ['schedule_versions.id'], name=op.f('fk_intraday_proposals_applied_version_id_schedule_versions'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intraday_proposals'))
    )
    with op.batch_alter_table('intraday_proposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intraday_proposals_queue_id'), ['queue_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('intraday_proposals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intraday_proposals_queue_id'))
    op.drop_table('intraday_proposals')
