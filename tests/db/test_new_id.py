"""netra.db.base.new_id: random version-4 UUIDs, written as `str(uuid.uuid4())` is."""

from __future__ import annotations

import os
import re
import uuid
from concurrent.futures import ThreadPoolExecutor

from netra.db.base import new_id

SHAPE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def test_ids_are_version_4_uuids_in_their_usual_text() -> None:
    ids = [new_id() for _ in range(5_000)]
    assert len(set(ids)) == len(ids)
    for text in ids:
        assert SHAPE.match(text), text
        parsed = uuid.UUID(text)
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
        assert str(parsed) == text


def test_every_random_bit_varies() -> None:
    # 122 bits are random: each of them is seen both set and clear over many ids.
    values = [uuid.UUID(new_id()).int for _ in range(2_000)]
    fixed = (0xF << 76) | (0x3 << 62)  # the version and variant bits
    ones = zeros = 0
    for value in values:
        ones |= value
        zeros |= ~value
    assert (ones & zeros) | fixed == (1 << 128) - 1


def test_a_forked_child_never_repeats_its_parents_ids() -> None:
    new_id()  # the parent now holds ids read but not handed out
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next id, to the parent
        os.write(write, new_id().encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 64).decode()
    os.close(read)
    os.waitpid(pid, 0)
    assert SHAPE.match(child), child
    assert child != new_id()


def test_threads_never_share_an_id() -> None:
    def many() -> list[str]:
        return [new_id() for _ in range(3_000)]  # several reads of the system's bytes

    with ThreadPoolExecutor(8) as pool:
        ids = [text for batch in pool.map(lambda _: many(), range(8)) for text in batch]
    assert len(set(ids)) == len(ids) == 24_000
