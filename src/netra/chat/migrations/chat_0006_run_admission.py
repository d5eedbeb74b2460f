"""the day a budget admitted each run, so a sweeper that ends a dead instance's run
gives back its place in flight

Revision ID: chat_0006
Revises: chat_0005
Create Date: 2026-12-05 11:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "chat_0006"
down_revision = "chat_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("admitted_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_column("admitted_on")
