"""JSON text for the wire and the database: socket frames, bus notices and JSON columns,
compact, encoded in one place (orjson: an event's frame in a tenth of the standard
library's time, and a message's life encodes a dozen; docs/architecture.md,
Performance). Reading stays the standard library's: orjson reads an integer beyond 64
bits as a float, which would lose digits.

The values are the standard library's; the text differs in ways no JSON reader sees:
non-ASCII characters as UTF-8 rather than `\\u` escapes, non-string keys as strings
(as `json.dumps` does), NaN and the infinities as `null` (`json.dumps` wrote `NaN`,
which is not JSON). What orjson refuses (an integer beyond 64 bits, a lone surrogate)
is encoded by the standard library instead, so nothing it took before is refused."""

from __future__ import annotations

import json
from typing import Any

import orjson

_OPTIONS = orjson.OPT_NON_STR_KEYS


def dumps(value: Any) -> str:
    """`value` as compact JSON text; TypeError for what JSON cannot hold."""
    try:
        return orjson.dumps(value, option=_OPTIONS).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
