"""Passwords: argon2id at OWASP parameters, a policy, and constant-shape failures.

Hashing runs in worker threads (never on the event loop) and at most `concurrency` at
once, so a flood of sign-ins queues instead of exhausting memory (19 MiB each).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from functools import cached_property

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from zxcvbn import zxcvbn

# OWASP Password Storage Cheat Sheet, argon2id minimum: m=19 MiB, t=2, p=1.
OWASP_TIME_COST, OWASP_MEMORY_KIB, OWASP_PARALLELISM = 2, 19 * 1024, 1
MAX_PASSWORD_LENGTH = 1024
# zxcvbn's score 3 is "safely unguessable: moderate protection from offline slow-hash
# scenario" (< 10^10 guesses is 2 and below). zxcvbn's time grows with the length, and
# what decides the score is in the first characters: judge at most this many.
MIN_STRENGTH = 3
JUDGED_LENGTH = 100


class PasswordRejected(ValueError):
    """The password does not meet the policy; the message says which rule."""


def strength(password: str, context: Iterable[str] = ()) -> tuple[int, str]:
    """zxcvbn's score (0-4) of `password`, guessing with `context` (the account's email,
    its parts and name) as known words, and its advice."""
    words = [word for item in context if item for word in _words(item)]
    result = zxcvbn(password[:JUDGED_LENGTH], user_inputs=words)
    feedback = result["feedback"]
    advice = " ".join([feedback.get("warning") or "", *feedback.get("suggestions", [])]).strip()
    return int(result["score"]), advice


def _words(item: str) -> list[str]:
    local, _, domain = item.partition("@")
    return [item, local, *local.replace(".", " ").replace("_", " ").split(), domain]


class Passwords:
    def __init__(self, min_length: int = 10, concurrency: int = 4) -> None:
        self.min_length = min_length
        self.hasher = PasswordHasher(
            time_cost=OWASP_TIME_COST, memory_cost=OWASP_MEMORY_KIB, parallelism=OWASP_PARALLELISM
        )
        self._slots = asyncio.Semaphore(concurrency)

    @cached_property
    def _dummy_hash(self) -> str:
        return self.hasher.hash("netra-dummy-password-for-unknown-accounts")

    def check_policy(
        self, password: str, email: str | None = None, name: str | None = None
    ) -> None:
        """Raise `PasswordRejected` naming the rule a new password breaks."""
        if len(password) < self.min_length:
            raise PasswordRejected(f"the password must have at least {self.min_length} characters")
        if len(password) > MAX_PASSWORD_LENGTH:
            raise PasswordRejected(
                f"the password may have at most {MAX_PASSWORD_LENGTH} characters"
            )
        if "\x00" in password:
            raise PasswordRejected("the password must not contain NUL characters")
        score, advice = strength(password, [email or "", name or ""])
        if score < MIN_STRENGTH:
            raise PasswordRejected(
                f"this password is too easy to guess; {advice or 'choose a longer one'}"
            )

    async def hash(self, password: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(self.hasher.hash, password)

    async def verify(self, stored: str | None, password: str) -> bool:
        """Whether `password` matches `stored`; with no stored hash (unknown account) a
        dummy hash is verified anyway, so both cases take the same time."""
        target = stored or self._dummy_hash
        async with self._slots:
            try:
                ok = await asyncio.to_thread(self.hasher.verify, target, password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return False
        return ok and stored is not None

    def needs_rehash(self, stored: str) -> bool:
        return self.hasher.check_needs_rehash(stored)
