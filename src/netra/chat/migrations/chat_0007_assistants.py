"""assistants made through the API, and the assistant a thread was started with

Revision ID: chat_0007
Revises: chat_0006
Create Date: 2026-12-05 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import netra.db.base

revision = "chat_0007"
down_revision = "chat_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assistants",
        sa.Column("user_id", sa.String(length=36), nullable=True),
        sa.Column("created_by", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("instructions", sa.Text(), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=True),
        sa.Column("tools", sa.JSON(), nullable=False),
        sa.Column("starters", sa.JSON(), nullable=False),
        sa.Column("updated_at", netra.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", netra.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assistants")),
    )
    with op.batch_alter_table("assistants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assistants_user_id"), ["user_id"], unique=False)
    with op.batch_alter_table("threads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assistant_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("threads", schema=None) as batch_op:
        batch_op.drop_column("assistant_id")
    with op.batch_alter_table("assistants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assistants_user_id"))
    op.drop_table("assistants")
