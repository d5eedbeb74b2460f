"""How strong a secret of Netra's own is: staging and production refuse one that holds
less than 32 random bytes (a guessable HS256 or service secret is tested offline)."""

from __future__ import annotations

import math
import string

MIN_BITS = 256
MIN_DISTINCT = 8
_HEX = frozenset(string.hexdigits)
_BASE64 = frozenset(string.ascii_letters + string.digits + "+/-_=")


def estimated_bits(value: str) -> float:
    """At most what `value` can hold, judged by its alphabet: 4 bits a hex digit, 6 a
    base64 character, ~6.6 anything else; few distinct characters hold nearly nothing."""
    distinct = set(value)
    if len(distinct) < MIN_DISTINCT:
        return math.log2(max(len(distinct), 1)) * len(value) / 4
    if distinct <= _HEX:
        per_char = 4.0
    elif distinct <= _BASE64:
        per_char = 6.0
    else:
        per_char = math.log2(95)
    return per_char * len(value.rstrip("="))


def weakness(value: str) -> str | None:
    """Why `value` is too weak a secret, or None."""
    if estimated_bits(value) >= MIN_BITS:
        return None
    return (
        "is too weak for staging/production: use at least 32 random bytes, e.g. "
        "`python -c 'import secrets; print(secrets.token_urlsafe(32))'` or "
        "`openssl rand -hex 32`"
    )
