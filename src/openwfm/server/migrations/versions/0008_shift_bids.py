"""self-service: shift bids (patterns, places, awards) and the agents' rankings

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('shift_bids',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('patterns', sa.JSON(), nullable=False),
    sa.Column('awards', sa.JSON(), nullable=True),
    sa.Column('schedule_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('closed_by', sa.Integer(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['closed_by'], ['users.id'], name=op.f('fk_shift_bids_closed_by_users')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_shift_bids_created_by_users')),
    sa.ForeignKeyConstraint(['schedule_id'], ['schedules.id'], name=op.f('fk_shift_bids_schedule_id_schedules'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_shift_bids_team_id_teams')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shift_bids'))
    )
    with op.batch_alter_table('shift_bids', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shift_bids_team_id'), ['team_id'], unique=False)
    op.create_table('bid_rankings',
    sa.Column('bid_id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.String(length=100), nullable=False),
    sa.Column('ranking', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_bid_rankings_agent_id_agents')),
    sa.ForeignKeyConstraint(['bid_id'], ['shift_bids.id'], name=op.f('fk_bid_rankings_bid_id_shift_bids'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('bid_id', 'agent_id', name=op.f('pk_bid_rankings'))
    )


def downgrade() -> None:
    op.drop_table('bid_rankings')
    with op.batch_alter_table('shift_bids', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shift_bids_team_id'))
    op.drop_table('shift_bids')
