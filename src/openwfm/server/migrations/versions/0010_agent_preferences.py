"""self-service: agents' availability and preferences per schedule period

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('agent_preferences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.String(length=100), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('value', sa.String(length=40), nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_agent_preferences_agent_id_agents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agent_preferences')),
    sa.UniqueConstraint('agent_id', 'period_start', 'position', name=op.f('uq_agent_preferences_agent_id'))
    )
    with op.batch_alter_table('agent_preferences', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agent_preferences_period_start'), ['period_start'], unique=False)
    op.create_table('agent_unavailability',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.String(length=100), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('start', sa.DateTime(), nullable=False),
    sa.Column('end', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_agent_unavailability_agent_id_agents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agent_unavailability'))
    )
    with op.batch_alter_table('agent_unavailability', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agent_unavailability_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agent_unavailability_period_start'), ['period_start'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('agent_unavailability', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agent_unavailability_period_start'))
        batch_op.drop_index(batch_op.f('ix_agent_unavailability_agent_id'))
    op.drop_table('agent_unavailability')
    with op.batch_alter_table('agent_preferences', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agent_preferences_period_start'))
    op.drop_table('agent_preferences')
