"""The browser side of a sign-in, driven with httpx: Netra's redirect, the provider's
login and consent forms (devInteractions), and the answer back to Netra."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from tests.support.oidc import NETRA

FORM_ACTION = re.compile(r'<form[^>]*action="([^"]+)"')


def with_params(url: str, **changes: str | None) -> str:
    """`url` with query parameters replaced (a value of None removes the parameter)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    return urlunsplit(parts._replace(query=urlencode(query)))


async def start(browser: httpx.AsyncClient, provider: str = "test", next: str = "/") -> str:
    """GET /auth/oidc/{provider}/login: the provider's authorization URL."""
    response = await browser.get(f"/auth/oidc/{provider}/login", params={"next": next})
    assert response.status_code == 302, response.text
    return response.headers["location"]


async def at_provider(
    browser: httpx.AsyncClient, authorization_url: str, login: str = "ada@example.com"
) -> httpx.Response:
    """Follow the provider's screens (sign in as `login`, consent) until it sends the
    browser back to Netra; returns that redirect (not followed) or the provider's refusal."""
    response = await browser.get(authorization_url)
    for _ in range(12):
        location = response.headers.get("location")
        if response.status_code in (302, 303) and location:
            target = httpx.URL(str(response.url)).join(location)
            if str(target).startswith(NETRA):
                return response
            response = await browser.get(target)
            continue
        if response.status_code != 200:
            return response
        action = FORM_ACTION.search(response.text)
        assert action, response.text[:500]
        if 'name="login"' in response.text:
            form = {"prompt": "login", "login": login, "password": "any"}
        else:
            form = {"prompt": "consent"}
        response = await browser.post(httpx.URL(str(response.url)).join(action.group(1)), data=form)
    raise AssertionError("the provider never sent the browser back")


def callback_url(answer: httpx.Response) -> str:
    assert answer.status_code in (302, 303), answer.text[:500]
    return str(httpx.URL(str(answer.url)).join(answer.headers["location"]))


async def sign_in(
    browser: httpx.AsyncClient,
    provider: str = "test",
    login: str = "ada@example.com",
    next: str = "/",
) -> httpx.Response:
    """The whole flow up to and including Netra's callback (its response, not followed)."""
    answer = await at_provider(browser, await start(browser, provider, next), login)
    return await browser.get(callback_url(answer))
