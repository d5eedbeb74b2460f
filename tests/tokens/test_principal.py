"""Principals are held per verified credential and per open stream: they stay small."""

from __future__ import annotations

from netra.tokens import Principal
from netra.tokens.principal import shared_set


def test_principals_of_one_role_share_their_sets() -> None:
    first = Principal("u1", "access", roles=shared_set(["user"]), scopes=shared_set([]))
    second = Principal("u2", "access", roles=shared_set(("user",)), scopes=shared_set(""))
    assert first.roles is second.roles
    assert first.scopes is second.scopes
    assert first.roles == frozenset({"user"})
    assert not hasattr(first, "__dict__")  # slots: no per-instance dict
