"""netra.jsontext: the wire's and the database's JSON text, the standard library's values
in less time, encoding everything the standard library encoded."""

from __future__ import annotations

import json
import math

import pytest

from netra import jsontext


def test_compact_text_with_the_same_values() -> None:
    value = {"type": "ack", "seq": None, "payload": {"n": [1, 2.5, True, "x"], "e": {}}}
    assert jsontext.dumps(value) == json.dumps(value, separators=(",", ":"))
    floats = [1e-7, 0.1, 1 / 3, 1e300, -0.0, 123456789.125]  # "1e-7", not Python's "1e-07"
    assert json.loads(jsontext.dumps(floats)) == floats


def test_non_ascii_is_utf8_text_with_the_same_value() -> None:
    value = {"text": "naïve café 日本 🚀", "quote": '"</script>\\n'}
    text = jsontext.dumps(value)
    assert "\\u" not in text
    assert "日本" in text
    assert json.loads(text) == value


def test_what_orjson_refuses_the_standard_library_encodes() -> None:
    value = {"n": 2**70 + 1, 3: "int key", "s": "\ud800"}
    assert json.loads(jsontext.dumps(value)) == {"n": 2**70 + 1, "3": "int key", "s": "\ud800"}
    assert json.loads(jsontext.dumps({7: 1})) == {"7": 1}  # int keys without the fallback


def test_nan_is_null_and_unknown_types_are_type_errors() -> None:
    assert jsontext.dumps({"x": math.nan, "y": math.inf}) == '{"x":null,"y":null}'
    with pytest.raises(TypeError):
        jsontext.dumps({"s": {1, 2}})
