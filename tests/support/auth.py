"""Reading the auth service's answers in tests."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import httpx

AuthClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


def reason(response: httpx.Response) -> str:
    """The stable `reason` of an error answer."""
    detail = response.json()["detail"]
    return str(detail["reason"])
