"""The one error model (netra.errors): every domain error has an answer in each
transport's table (a new class without a row fails here, not as a 500 in production),
and HTTP answers all come in the shape `{"detail": {"reason", "message"}}`."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

import netra
from netra import http_errors
from netra.chat import errors as chat
from netra.chat.ws import errors as ws_errors
from netra.errors import DomainError, NotFound, TooManyAttempts, Unauthorized, Unavailable
from netra.tokens import TokenCheckUnavailable, TokenRejected


def leaves(base: type[DomainError]) -> set[type[DomainError]]:
    """Every class under `base` that nothing subclasses, once all of netra is imported."""
    for module in pkgutil.walk_packages(netra.__path__, "netra."):
        importlib.import_module(module.name)
    found: set[type[DomainError]] = set()
    todo = [base]
    while todo:
        cls = todo.pop()
        children = cls.__subclasses__()
        todo.extend(children)
        if not children:
            found.add(cls)
    return found


def test_every_domain_error_has_an_http_row() -> None:
    missing = {c.__qualname__ for c in leaves(DomainError) if c not in http_errors.ANSWERS}
    assert not missing, f"add a row to netra.http_errors.ANSWERS for {sorted(missing)}"


def test_every_error_a_socket_meets_has_a_socket_row() -> None:
    needed = leaves(chat.ChatError) | {TokenRejected, Unavailable}
    missing = {c.__qualname__ for c in needed if c not in ws_errors.ANSWERS}
    assert not missing, f"add a row to netra.chat.ws.errors.ANSWERS for {sorted(missing)}"


def test_chat_errors_name_their_own_reason() -> None:
    for cls in leaves(chat.ChatError):
        assert cls.reason != DomainError.reason, cls


def test_the_socket_replies_with_the_documented_codes() -> None:
    replies = {
        cls.__name__: row.code
        for cls, row in ws_errors.ANSWERS.items()
        if isinstance(row, ws_errors.Reply)
    }
    assert replies == {
        "TooLong": "too_long",
        "RateLimited": "rate_limited",
        "NoSuchThread": "not_found",
        "NoSuchRun": "not_found",
        "RunFinished": "run_finished",
        "NoSuchApproval": "not_found",
        "AlreadyResolved": "already_resolved",
        "BadSeq": "bad_seq",
        "BadCursor": "bad_cursor",
        "EmptyQuery": "empty_query",
        "QueryTooLong": "query_too_long",
        "ModelNotAllowed": "model_not_allowed",
        "RunActive": "run_active",
        "BadImport": "bad_import",
        "NoSuchMessage": "not_found",
        "NotAnAnswer": "not_an_answer",
        "NoSuchShare": "not_found",
        "AdminsOnly": "forbidden",
        "NoSuchAssistant": "not_found",
        "AssistantReadOnly": "forbidden",
        "UnknownTool": "unknown_tool",
        "QuotaExceeded": "quota_exceeded",
        "Overloaded": "overloaded",
        "InsufficientScope": "insufficient_scope",
        "NoSuchFile": "not_found",
        "FileTooLarge": "file_too_large",
        "ThreadFilesFull": "thread_files_full",
        "UserFilesFull": "user_files_full",
        "UnsupportedFile": "unsupported_file_type",
        "UnreadablePdf": "unreadable_pdf",
        "FileNotInThread": "file_not_in_thread",
        "TooManyFiles": "too_many_files",
        "BadUpload": "bad_upload",
    }


class Body(BaseModel):
    password: str
    age: int


def app_raising(exc: Exception) -> FastAPI:
    app = FastAPI()
    http_errors.install(app)

    @app.get("/raise")
    async def fail() -> None:
        raise exc

    @app.post("/validate")
    async def validate(body: Body) -> None:
        return None

    return app


async def call(app: FastAPI, method: str, path: str, **kwargs: object) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.request(method, path, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("exc", "status", "headers"),
    [
        (chat.RateLimited(41.2, 30), 429, {"retry-after": "42"}),
        (chat.Draining(), 503, {"retry-after": "1"}),
        (chat.TooLong(16001, 16000), 413, {}),
        (chat.NoSuchThread("t"), 404, {}),
        (NotFound("no account has this id"), 404, {}),
        (TooManyAttempts("too many sign-ins", retry_after=0.2), 429, {"retry-after": "1"}),
        (TokenRejected("missing", "missing access token"), 401, {"www-authenticate": "Bearer"}),
        (
            TokenRejected("expired", "the token has expired"),
            401,
            {"www-authenticate": 'Bearer error="invalid_token"'},
        ),
        (
            Unauthorized("this account is disabled", reason="account_disabled"),
            401,
            {"www-authenticate": 'Bearer error="invalid_token"'},
        ),
        (TokenCheckUnavailable("the auth service cannot be reached"), 503, {"retry-after": "1"}),
    ],
)
async def test_a_domain_error_answers_its_row(
    exc: DomainError, status: int, headers: dict[str, str]
) -> None:
    response = await call(app_raising(exc), "GET", "/raise")
    assert response.status_code == status
    assert response.json() == {"detail": {"reason": exc.reason, "message": exc.message}}
    for name, value in headers.items():
        assert response.headers[name] == value
    if "retry-after" not in headers:
        assert "retry-after" not in response.headers


async def test_framework_refusals_come_in_the_same_shape() -> None:
    app = app_raising(NotFound("x"))
    missing = await call(app, "GET", "/nowhere")
    assert (missing.status_code, missing.json()["detail"]["reason"]) == (404, "not_found")
    wrong = await call(app, "DELETE", "/raise")
    assert (wrong.status_code, wrong.json()["detail"]["reason"]) == (405, "method_not_allowed")


async def test_invalid_input_names_the_field_and_never_echoes_it() -> None:
    response = await call(
        app_raising(NotFound("x")), "POST", "/validate", json={"password": "hunter2", "age": "x"}
    )
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail["reason"] == "invalid_request"
    assert "body.age" in detail["message"]
    assert [e["loc"] for e in detail["errors"]] == [["body", "age"]]
    assert "hunter2" not in response.text
    assert '"x"' not in response.text


def test_every_reason_a_class_names_is_in_the_docs_table() -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "protocol.md").read_text("utf-8")
    table = set(re.findall(r"^\| `(\w+)` ", doc, re.M))
    reasons = {cls.reason for cls in leaves(DomainError) if cls.reason != DomainError.reason}
    assert reasons <= table, f"document in docs/protocol.md: {sorted(reasons - table)}"
