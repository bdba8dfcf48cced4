"""login attempts: index on the address (the per-address sign-in limit counts by it)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_login_attempts_address', 'login_attempts', ['address'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_login_attempts_address', table_name='login_attempts')
