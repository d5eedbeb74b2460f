"""tool calls waiting for a person's approval, with their paused run's state

Revision ID: chat_0009
Revises: chat_0008
Create Date: 2026-12-05 11:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import netra.db.base

revision = "chat_0009"
down_revision = "chat_0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "run_approvals",
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("call_id", sa.String(length=100), nullable=False),
        sa.Column("thread_id", sa.String(length=36), nullable=False),
        sa.Column("tool", sa.String(length=200), nullable=False),
        sa.Column("arguments", sa.JSON(), nullable=False),
        sa.Column("checkpoint", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", netra.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", netra.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", netra.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["runs.id"],
            name=op.f("fk_run_approvals_run_id_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "call_id", name=op.f("pk_run_approvals")),
    )
    with op.batch_alter_table("run_approvals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_run_approvals_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_run_approvals_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("run_approvals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_run_approvals_expires_at"))
        batch_op.drop_index(batch_op.f("ix_run_approvals_status"))
    op.drop_table("run_approvals")
