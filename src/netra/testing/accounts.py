"""Real accounts at a running auth service: registered and signed in over its HTTP API."""

from __future__ import annotations

from typing import Any

import httpx

PASSWORD = "correct horse battery"


def bearer(token: str) -> dict[str, str]:
    """The Authorization header carrying `token`."""
    return {"Authorization": f"Bearer {token}"}


async def sign_up(
    client: httpx.AsyncClient, email: str = "ada@example.com", password: str = PASSWORD
) -> dict[str, Any]:
    """Register and sign in; returns the login answer (tokens, session id)."""
    registered = await client.post("/auth/register", json={"email": email, "password": password})
    assert registered.status_code == 201, registered.text
    login = await client.post("/auth/login", json={"email": email, "password": password})
    assert login.status_code == 200, login.text
    body: dict[str, Any] = login.json()
    return body


def email(user: str) -> str:
    return f"{user}@example.com"


class Users:
    """Real accounts of the auth service at `auth_url`, each registered and signed in on
    first use (two argon2id hashes an account: a caller pays only for the users it uses)."""

    def __init__(self, auth_url: str) -> None:
        self.auth_url = auth_url
        self._logins: dict[str, dict[str, Any]] = {}

    async def sign_in(self, user: str = "alice") -> dict[str, Any]:
        """`user`'s login answer (access and refresh token, session id)."""
        if user not in self._logins:
            async with httpx.AsyncClient(base_url=self.auth_url, timeout=30) as http:
                self._logins[user] = await sign_up(http, email(user), PASSWORD)
        return self._logins[user]

    async def token(self, user: str = "alice") -> str:
        return str((await self.sign_in(user))["access_token"])

    async def id(self, user: str = "alice") -> str:
        """The account id the auth service gave `user` (the `sub` of its tokens)."""
        async with httpx.AsyncClient(base_url=self.auth_url) as http:
            me = await http.get("/auth/me", headers=bearer(await self.token(user)))
        assert me.status_code == 200, me.text
        return str(me.json()["id"])
