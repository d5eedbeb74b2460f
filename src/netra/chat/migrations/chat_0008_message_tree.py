"""messages form a tree (parent_id); a thread remembers the branch it shows

Revision ID: chat_0008
Revises: chat_0007
Create Date: 2026-12-05 11:00:00

Existing threads become one branch: each message's parent is the message before it
(created_at, then id), and the thread shows its newest message.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "chat_0008"
down_revision = "chat_0007"
branch_labels = None
depends_on = None

# Both dialects: a correlated subquery each (SQLite has no UPDATE ... FROM before 3.33).
CHAIN = """
UPDATE messages SET parent_id = (
  SELECT p.id FROM messages p
  WHERE p.thread_id = messages.thread_id
    AND (p.created_at < messages.created_at
         OR (p.created_at = messages.created_at AND p.id < messages.id))
  ORDER BY p.created_at DESC, p.id DESC LIMIT 1)
"""
SHOW_NEWEST = """
UPDATE threads SET active_leaf_id = (
  SELECT m.id FROM messages m WHERE m.thread_id = threads.id
  ORDER BY m.created_at DESC, m.id DESC LIMIT 1)
"""


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parent_id", sa.String(length=36), nullable=True))
        batch_op.create_index(batch_op.f("ix_messages_parent_id"), ["parent_id"], unique=False)
    with op.batch_alter_table("threads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("active_leaf_id", sa.String(length=36), nullable=True))
    op.execute(CHAIN)
    op.execute(SHOW_NEWEST)


def downgrade() -> None:
    # Not batch: on SQLite a batch drop_column copies the table, losing the full-text
    # triggers chat_0002 put on it; ALTER TABLE DROP COLUMN (SQLite 3.35+) keeps them.
    op.drop_column("threads", "active_leaf_id")
    op.drop_index(op.f("ix_messages_parent_id"), table_name="messages")
    op.drop_column("messages", "parent_id")
