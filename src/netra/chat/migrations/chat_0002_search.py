"""full-text search over thread titles and messages

Revision ID: chat_0002
Revises: chat_0001
Create Date: 2026-12-05 08:00:00

SQLite: FTS5 tables kept in step by triggers, each keyed through a `fts_*_rows` table
whose INTEGER PRIMARY KEY is stable (the rowid of `messages` itself could change on
VACUUM). PostgreSQL: a stored tsvector column under a GIN index. Every name starts with
`fts_`, so model comparisons leave them alone (netra.db.migrations.Schema.owns_name).
"""

from __future__ import annotations

from alembic import op

revision = "chat_0002"
down_revision = "chat_0001"
branch_labels = None
depends_on = None

SQLITE = [
    "CREATE TABLE fts_message_rows"
    " (rowid INTEGER PRIMARY KEY, message_id VARCHAR(36) NOT NULL UNIQUE)",
    "CREATE VIRTUAL TABLE fts_messages"
    " USING fts5(content, tokenize='porter unicode61 remove_diacritics 2')",
    "INSERT INTO fts_message_rows (message_id) SELECT id FROM messages ORDER BY created_at, id",
    "INSERT INTO fts_messages (rowid, content) SELECT r.rowid, m.content"
    " FROM fts_message_rows r JOIN messages m ON m.id = r.message_id",
    """CREATE TRIGGER fts_messages_insert AFTER INSERT ON messages BEGIN
         INSERT INTO fts_message_rows (message_id) VALUES (new.id);
         INSERT INTO fts_messages (rowid, content) VALUES (
           (SELECT rowid FROM fts_message_rows WHERE message_id = new.id), new.content);
       END""",
    """CREATE TRIGGER fts_messages_update AFTER UPDATE OF content ON messages BEGIN
         UPDATE fts_messages SET content = new.content
         WHERE rowid = (SELECT rowid FROM fts_message_rows WHERE message_id = new.id);
       END""",
    """CREATE TRIGGER fts_messages_delete AFTER DELETE ON messages BEGIN
         DELETE FROM fts_messages
         WHERE rowid = (SELECT rowid FROM fts_message_rows WHERE message_id = old.id);
         DELETE FROM fts_message_rows WHERE message_id = old.id;
       END""",
    "CREATE TABLE fts_thread_rows"
    " (rowid INTEGER PRIMARY KEY, thread_id VARCHAR(36) NOT NULL UNIQUE)",
    "CREATE VIRTUAL TABLE fts_threads"
    " USING fts5(title, tokenize='porter unicode61 remove_diacritics 2')",
    "INSERT INTO fts_thread_rows (thread_id) SELECT id FROM threads ORDER BY created_at, id",
    "INSERT INTO fts_threads (rowid, title) SELECT r.rowid, t.title"
    " FROM fts_thread_rows r JOIN threads t ON t.id = r.thread_id",
    """CREATE TRIGGER fts_threads_insert AFTER INSERT ON threads BEGIN
         INSERT INTO fts_thread_rows (thread_id) VALUES (new.id);
         INSERT INTO fts_threads (rowid, title) VALUES (
           (SELECT rowid FROM fts_thread_rows WHERE thread_id = new.id), new.title);
       END""",
    """CREATE TRIGGER fts_threads_update AFTER UPDATE OF title ON threads BEGIN
         UPDATE fts_threads SET title = new.title
         WHERE rowid = (SELECT rowid FROM fts_thread_rows WHERE thread_id = new.id);
       END""",
    """CREATE TRIGGER fts_threads_delete AFTER DELETE ON threads BEGIN
         DELETE FROM fts_threads
         WHERE rowid = (SELECT rowid FROM fts_thread_rows WHERE thread_id = old.id);
         DELETE FROM fts_thread_rows WHERE thread_id = old.id;
       END""",
]

POSTGRES = [
    "ALTER TABLE messages ADD COLUMN fts_document tsvector"
    " GENERATED ALWAYS AS (to_tsvector('english', content)) STORED",
    "CREATE INDEX fts_messages ON messages USING gin (fts_document)",
    "ALTER TABLE threads ADD COLUMN fts_document tsvector"
    " GENERATED ALWAYS AS (to_tsvector('english', title)) STORED",
    "CREATE INDEX fts_threads ON threads USING gin (fts_document)",
]


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in SQLITE if sqlite else POSTGRES:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in ("messages", "threads"):
            for trigger in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER fts_{table}_{trigger}")
            op.execute(f"DROP TABLE fts_{table}")
            op.execute(f"DROP TABLE fts_{table[:-1]}_rows")
    else:
        for table in ("messages", "threads"):
            op.execute(f"DROP INDEX fts_{table}")
            op.execute(f"ALTER TABLE {table} DROP COLUMN fts_document")
