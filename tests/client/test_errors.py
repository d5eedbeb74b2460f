"""The SDK's typed errors: chosen by the server's `reason`, else by the status, whatever
the body (a proxy in front may answer in HTML)."""

from __future__ import annotations

import httpx
import pytest

from netra.client import (
    Conflict,
    Forbidden,
    InvalidRequest,
    NetraError,
    NotFound,
    RateLimited,
    Unauthorized,
    Unavailable,
)
from netra.client.errors import from_response


def answer(status: int, reason: str, message: str = "m", **headers: str) -> httpx.Response:
    body = {"detail": {"reason": reason, "message": message}}
    return httpx.Response(status, json=body, headers=headers)


@pytest.mark.parametrize(
    ("status", "reason", "kind"),
    [
        (401, "expired", Unauthorized),
        (401, "invalid_credentials", Unauthorized),
        (403, "forbidden", Forbidden),
        (404, "not_found", NotFound),
        (409, "run_finished", Conflict),
        (409, "last_sign_in_method", Conflict),
        (413, "too_long", InvalidRequest),
        (422, "invalid_request", InvalidRequest),
        (400, "bad_seq", InvalidRequest),
        (429, "rate_limited", RateLimited),
        (503, "restarting", Unavailable),
        (502, "provider_bad_response", Unavailable),
        (418, "teapot", NetraError),
    ],
)
def test_the_class_follows_reason_then_status(
    status: int, reason: str, kind: type[NetraError]
) -> None:
    error = from_response(answer(status, reason, "said the server"))
    assert type(error) is kind
    assert (error.status, error.reason, error.message) == (status, reason, "said the server")


def test_retry_after_is_read_from_the_header() -> None:
    error = from_response(answer(429, "rate_limited", **{"Retry-After": "41"}))
    assert isinstance(error, RateLimited)
    assert error.retry_after == 41.0
    assert from_response(answer(429, "rate_limited", **{"Retry-After": "soon"})).retry_after is None


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(502, text="<html><h1>Bad Gateway</h1></html>"),
        httpx.Response(503, json=["not", "an", "object"]),
        httpx.Response(503, json={"detail": "service is starting, retry shortly"}),
        httpx.Response(500, content=b""),
    ],
)
def test_bodies_not_in_the_error_shape_still_give_a_typed_error(response: httpx.Response) -> None:
    error = from_response(response)
    assert error.status == response.status_code
    assert error.message
    assert isinstance(error, Unavailable) == (response.status_code in (502, 503))
