"""New rows written by Core INSERTs (netra.chat.models.new_row, write_group._values): the
object reads back what it was given and the group's statement gets every column."""

from __future__ import annotations

from sqlalchemy import inspect

from netra.chat.models import Message, messages_table, runs_table
from netra.chat.store import _new_turn
from netra.chat.write_group import _values


def test_a_new_rows_object_reads_back_what_it_was_given() -> None:
    message, run = _new_turn("t1", "hi", "c1", provider="builtin", model="m")
    assert (message.thread_id, message.role, message.content) == ("t1", "user", "hi")
    assert (message.client_msg_id, message.run_id) == ("c1", run.id)
    assert (run.user_message_id, run.status, run.provider, run.model) == (
        message.id,
        "running",
        "builtin",
        "m",
    )
    assert run.started_at == run.created_at == message.created_at
    assert (run.usage, run.error, message.parent_id) == (None, None, None)  # not given
    assert inspect(run).transient  # in no session: nothing to flush
    message.parent_id = "p"  # changed later, as any object
    assert message.parent_id == "p"


def test_a_groups_rows_have_every_column_but_an_unset_json_one() -> None:
    message, run = _new_turn("t1", "hi", None, provider="builtin")
    message.parent_id = "p"
    values = _values(message)
    assert set(values) == {column.key for column in messages_table.columns}
    assert (values["parent_id"], values["client_msg_id"], values["content"]) == ("p", None, "hi")
    # usage (JSON) left out, so it is SQL NULL rather than JSON null; the rest are there,
    # None where not given.
    assert set(_values(run)) == {column.key for column in runs_table.columns} - {"usage"}
    assert _values(run)["error"] is None
    # An object built by its constructor (a run's answer) gives the same columns.
    answer = Message(id="a1", thread_id="t1", role="assistant", content="hello")
    assert set(_values(answer)) == set(values)
