"""real-time adherence: agent-state events

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rta_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('event_id', sa.String(length=200), nullable=False),
    sa.Column('agent_id', sa.String(length=100), nullable=False),
    sa.Column('state', sa.String(length=24), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_rta_events_agent_id_agents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rta_events')),
    sa.UniqueConstraint('event_id', name=op.f('uq_rta_events_event_id'))
    )
    with op.batch_alter_table('rta_events', schema=None) as batch_op:
        batch_op.create_index('ix_rta_events_agent_at', ['agent_id', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('rta_events', schema=None) as batch_op:
        batch_op.drop_index('ix_rta_events_agent_at')
    op.drop_table('rta_events')
