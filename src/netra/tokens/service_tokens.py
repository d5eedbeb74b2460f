"""The client side of service-to-service authentication: a backend process holds one
`ServiceTokenClient` and asks it for a bearer token whenever it calls the auth service.

The token comes from `POST /auth/service-token` (client-credentials style) and is
renewed before it expires; concurrent callers share one request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx


class ServiceTokenError(Exception):
    """No service token could be obtained; the message says why, never the secret.
    `refused` is true when the auth service answered and said no (a configuration
    mismatch), false when it could not be asked (it may come back)."""

    def __init__(self, message: str, *, refused: bool = False) -> None:
        super().__init__(message)
        self.refused = refused


class ServiceTokenClient:
    """`await client.token()` → a valid service access token for `service_id`."""

    def __init__(
        self,
        url: str,
        service_id: str,
        service_secret: str,
        http: httpx.AsyncClient,
        *,
        renew_fraction: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.service_id = service_id
        self._secret = service_secret
        self._http = http
        self._renew_fraction = renew_fraction
        self._clock = clock
        self._token: str | None = None
        self._renew_at = 0.0
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"ServiceTokenClient(url={self.url!r}, service_id={self.service_id!r})"

    async def token(self) -> str:
        if self._token is not None and self._clock() < self._renew_at:
            return self._token
        async with self._lock:
            if self._token is not None and self._clock() < self._renew_at:
                return self._token
            return await self._fetch()

    async def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {await self.token()}"}

    def forget(self) -> None:
        """Drop the cached token (e.g. after the auth service answered 401 to it)."""
        self._token = None

    async def _fetch(self) -> str:
        body = {"service_id": self.service_id, "service_secret": self._secret}
        try:
            response = await self._http.post(self.url, json=body, timeout=5.0)
        except httpx.HTTPError as exc:
            raise ServiceTokenError(f"cannot reach the auth service at {self.url}: {exc}") from None
        if response.status_code in (401, 403):
            raise ServiceTokenError(
                f"the auth service at {self.url} refused service '{self.service_id}': "
                "do both services have the same SERVICE_SECRET (and SERVICE_ID)?",
                refused=True,
            )
        if response.status_code != 200:
            raise ServiceTokenError(
                f"the auth service at {self.url} answered {response.status_code} "
                "to a service-token request"
            )
        payload = response.json()
        token, lifetime = str(payload["access_token"]), float(payload["expires_in"])
        self._token = token
        self._renew_at = self._clock() + lifetime * (1 - self._renew_fraction)
        return token
