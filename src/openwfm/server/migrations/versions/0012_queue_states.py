"""rta: the live queue state the ACD reports (contacts waiting, oldest wait, in service)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('queue_states',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('queue_id', sa.String(length=100), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('waiting', sa.Integer(), nullable=False),
    sa.Column('oldest_wait_s', sa.Double(), nullable=True),
    sa.Column('in_service', sa.Integer(), nullable=True),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['queue_id'], ['queues.id'], name=op.f('fk_queue_states_queue_id_queues'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_queue_states')),
    sa.UniqueConstraint('queue_id', 'at', name='uq_queue_states_queue_at')
    )


def downgrade() -> None:
    op.drop_table('queue_states')
