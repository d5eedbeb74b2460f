"""Email addresses as identities: one normal form, so case and look-alikes do not make
a second account."""

from __future__ import annotations

import re
import unicodedata

MAX_EMAIL_LENGTH = 320
_SHAPE = re.compile(
    r"^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$"
)


class EmailRejected(ValueError):
    """Not an address we accept; the message says why."""


def normalize_email(raw: str) -> str:
    """NFKC (full-width and compatibility forms fold to ASCII), trimmed, case-folded.

    After folding the address must be plain ASCII: look-alike letters from other scripts
    (a Cyrillic letter that looks Latin) are refused rather than becoming a second identity.
    """
    folded = unicodedata.normalize("NFKC", raw).strip().casefold()
    if not folded:
        raise EmailRejected("an email address is required")
    if len(folded) > MAX_EMAIL_LENGTH:
        raise EmailRejected(f"the email address may have at most {MAX_EMAIL_LENGTH} characters")
    if not folded.isascii():
        raise EmailRejected(
            "the email address must be plain ASCII (internationalised addresses are not "
            "supported, so look-alike letters cannot create a second account)"
        )
    if not _SHAPE.match(folded):
        raise EmailRejected("this is not an email address (expected name@example.com)")
    return folded
