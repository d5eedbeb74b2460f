"""Issue 15 item 10: passwords are judged by zxcvbn with the account's email and name as
context, not by a short list of common passwords."""

from __future__ import annotations

import httpx
import pytest

from netra.testing import PASSWORD, bearer, sign_up
from tests.support.auth import reason


@pytest.mark.parametrize(
    ("email", "name", "password"),
    [
        pytest.param("ada@example.com", None, "iloveyou1234", id="iloveyou1234"),
        pytest.param("ada@example.com", None, "password12345", id="password12345"),
        pytest.param("ada@example.com", None, "qwertyuiop12", id="keyboard-walk"),
        pytest.param("ada@example.com", None, "aaaaaaaaaaaaaaaa", id="repeats"),
        pytest.param("ada@example.com", None, "abcdefghijkl", id="sequence"),
        pytest.param(
            "zebulon.quartermaine@example.com", None, "quartermaine2024!", id="from-the-email"
        ),
        pytest.param(
            "w@example.com", "Wilhelmina Fairweather", "fairweather2024!", id="from-the-name"
        ),
    ],
)
async def test_guessable_passwords_are_refused_at_registration(
    auth_sqlite: httpx.AsyncClient, email: str, name: str | None, password: str
) -> None:
    answer = await auth_sqlite.post(
        "/auth/register", json={"email": email, "password": password, "name": name}
    )
    assert answer.status_code == 422, answer.text
    assert reason(answer) == "invalid_request"
    assert "too easy to guess" in answer.json()["detail"]["message"]
    assert password not in answer.text
    signed_in = await auth_sqlite.post("/auth/login", json={"email": email, "password": password})
    assert signed_in.status_code == 401


async def test_the_same_password_without_that_context_is_accepted(
    auth_sqlite: httpx.AsyncClient,
) -> None:
    """The name made `fairweather2024!` guessable; for another person it is fine."""
    answer = await auth_sqlite.post(
        "/auth/register", json={"email": "bob@example.com", "password": "fairweather2024!"}
    )
    assert answer.status_code == 201, answer.text


async def test_a_guessable_new_password_is_refused_on_change(
    auth_sqlite: httpx.AsyncClient,
) -> None:
    tokens = await sign_up(auth_sqlite)
    answer = await auth_sqlite.post(
        "/auth/password",
        json={"current_password": PASSWORD, "new_password": "iloveyou1234"},
        headers=bearer(tokens["access_token"]),
    )
    assert answer.status_code == 422, answer.text
    assert "too easy to guess" in answer.json()["detail"]["message"]
