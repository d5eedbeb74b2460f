"""new messages and passages indexed in bulk where they are inserted, not by triggers

Revision ID: chat_0011
Revises: chat_0010
Create Date: 2026-12-06 12:00:00

SQLite only (PostgreSQL's stored tsvector columns are unchanged): the insert triggers of
`fts_messages` (chat_0002_search) and `fts_file_chunks` (chat_0010_files_in_a_thread)
go; `netra.chat.search.insert_searchable` writes the same rows with one statement of
each kind for a whole group of rows. A trigger ran its statements once per row, and FTS5
writes its pending terms out as a new segment at each statement's savepoint: every row
became a segment to merge. What is indexed already stays; the update and delete triggers
stay.
"""

from __future__ import annotations

from alembic import op

revision = "chat_0011"
down_revision = "chat_0010"
branch_labels = None
depends_on = None

# The triggers as chat_0002 and chat_0010 made them, for the downgrade.
INSERT_TRIGGERS = {
    "fts_messages_insert": """CREATE TRIGGER fts_messages_insert AFTER INSERT ON messages BEGIN
         INSERT INTO fts_message_rows (message_id) VALUES (new.id);
         INSERT INTO fts_messages (rowid, content) VALUES (
           (SELECT rowid FROM fts_message_rows WHERE message_id = new.id), new.content);
       END""",
    "fts_file_chunks_insert": """CREATE TRIGGER fts_file_chunks_insert
       AFTER INSERT ON file_chunks BEGIN
         INSERT INTO fts_file_chunk_rows (chunk_id) VALUES (new.id);
         INSERT INTO fts_file_chunks (rowid, content) VALUES (
           (SELECT rowid FROM fts_file_chunk_rows WHERE chunk_id = new.id), new.content);
       END""",
}


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in INSERT_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for create in INSERT_TRIGGERS.values():
            op.execute(create)
