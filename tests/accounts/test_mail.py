"""Mail delivery through a real SMTP server: delivered and followed, and the hostile
servers (down, slow, refusing the recipient) never hold up a request or lose a mail."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from netra.cli import app as cli
from netra.testing import PASSWORD, bearer
from tests.support.accounts import (
    PUBLIC_URL,
    ServiceFactory,
    login,
    make_admin,
    register,
)
from tests.support.smtp import SmtpServer, free_port, html_of, link_in, text_of, token_in


async def until(probe: Callable[[], Awaitable[Any]], what: str, timeout: float = 20.0) -> Any:
    """Poll `probe` until it returns something truthy (the outbox works in the background)."""
    async with asyncio.timeout(timeout):
        while not (result := await probe()):  # noqa: ASYNC110 (state in a database)
            await asyncio.sleep(0.05)
    assert result, what
    return result


async def admin_token(client: httpx.AsyncClient, smtp: SmtpServer, database: Any) -> str:
    await register(client, smtp, "root@example.com")
    async with database() as session:
        await make_admin(session, "root@example.com")
    return str((await login(client, "root@example.com"))["access_token"])


async def outbox(client: httpx.AsyncClient, token: str, **params: str) -> dict[str, Any]:
    answer = await client.get("/auth/admin/mail", params=params, headers=bearer(token))
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_registration_mails_a_link_that_verifies(
    accounts: httpx.AsyncClient, smtp: SmtpServer
) -> None:
    answer = await accounts.post(
        "/auth/register", json={"email": "ada@example.com", "password": PASSWORD}
    )
    assert answer.status_code == 201
    message = await smtp.mailbox.next()
    assert message["To"] == "ada@example.com"
    assert message["From"] == "Netra <netra@localhost>"
    link = link_in(message)
    assert link.startswith(f"{PUBLIC_URL}/verify-email?token=")
    assert link in html_of(message).replace("&amp;", "&")
    assert "24 hours" in text_of(message)

    tokens = await login(accounts)
    me = await accounts.get("/auth/me", headers=bearer(tokens["access_token"]))
    assert me.json()["email_verified"] is False
    followed = await accounts.post("/auth/verify-email", json={"token": token_in(message)})
    assert followed.status_code == 200, followed.text
    assert followed.json() == {"email": "ada@example.com", "email_verified": True}
    me = await accounts.get("/auth/me", headers=bearer(tokens["access_token"]))
    assert me.json()["email_verified"] is True


async def test_smtp_down_answers_at_once_retries_then_shows_failed(
    service: ServiceFactory, smtp: SmtpServer, database: Any
) -> None:
    dead = f"smtp://127.0.0.1:{free_port()}"  # nothing listens there
    async with service(SMTP_URL=dead, MAIL_MAX_ATTEMPTS="3", MAIL_RETRY_INTERVAL="0.05") as client:
        answer = await client.post(
            "/auth/register", json={"email": "ada@example.com", "password": PASSWORD}
        )
        assert answer.status_code == 201
        async with database() as session:
            await make_admin(session, "ada@example.com")
        token = (await login(client))["access_token"]

        async def failed() -> list[dict[str, Any]]:
            return list((await outbox(client, token, status="failed"))["mails"])

        [mail] = await until(failed, "the mail is given up on after MAIL_MAX_ATTEMPTS")
        assert mail["attempts"] == 3
        assert mail["to"] == "ada@example.com"
        assert "cannot reach smtp://127.0.0.1" in mail["last_error"]

        async def warned() -> dict[str, Any] | None:  # readiness caches results for 1 s
            check: dict[str, Any] = (await client.get("/health/ready")).json()["checks"]["mail"]
            return check if check["status"] == "warn" else None

        check = await until(warned, "readiness warns (not required: the service stays ready)")
        assert "1 failed today" in check["output"]


async def test_slow_server_never_holds_up_a_request(
    accounts: httpx.AsyncClient, smtp: SmtpServer
) -> None:
    smtp.mailbox.held.set()  # the server sits on every DATA until released
    answer = await accounts.post(
        "/auth/register", json={"email": "ada@example.com", "password": PASSWORD}
    )
    assert answer.status_code == 201  # answered while the SMTP server still holds the mail
    assert smtp.mailbox.empty()
    smtp.mailbox.release()
    assert token_in(await smtp.mailbox.next())


async def test_server_slower_than_the_timeout_is_retried(
    service: ServiceFactory, smtp: SmtpServer, database: Any
) -> None:
    async with service(SMTP_TIMEOUT="0.5") as client:
        admin = await admin_token(client, smtp, database)
        smtp.mailbox.held.set()
        await client.post("/auth/password/forgot", json={"email": "root@example.com"})

        async def retried() -> bool:
            mails = (await outbox(client, admin, status="pending"))["mails"]
            return any(m["attempts"] >= 1 and m["last_error"] for m in mails)

        await until(retried, "a timed-out attempt is scheduled again")
        [mail] = (await outbox(client, admin, status="pending"))["mails"]
        assert "did not answer within 0.5 s" in mail["last_error"]
        smtp.mailbox.release()
        message = await smtp.mailbox.next()
        assert "/reset-password?token=" in link_in(message)


async def test_refused_recipient_fails_and_others_still_go(
    service: ServiceFactory, smtp: SmtpServer, database: Any
) -> None:
    smtp.mailbox.refuse.add("ghost@example.com")
    async with service() as client:
        admin = await admin_token(client, smtp, database)
        answer = await client.post(
            "/auth/register", json={"email": "ghost@example.com", "password": PASSWORD}
        )
        assert answer.status_code == 201
        await register(client, smtp, "bob@example.com")  # the queue is not stuck behind it

        async def failed() -> list[dict[str, Any]]:
            return list((await outbox(client, admin, status="failed"))["mails"])

        [mail] = await until(failed, "a refused recipient is marked failed")
        assert mail["to"] == "ghost@example.com"
        assert "550" in mail["last_error"]


async def test_a_mail_queued_before_a_restart_is_sent_after_it(
    service: ServiceFactory, smtp: SmtpServer
) -> None:
    dead = f"smtp://127.0.0.1:{free_port()}"
    async with service(SMTP_URL=dead) as client:
        answer = await client.post(
            "/auth/register", json={"email": "ada@example.com", "password": PASSWORD}
        )
        assert answer.status_code == 201
    assert smtp.mailbox.empty()
    async with service() as client:  # same database, a working server now
        message = await smtp.mailbox.next()
        assert message["To"] == "ada@example.com"
        followed = await client.post("/auth/verify-email", json={"token": token_in(message)})
        assert followed.status_code == 200


async def test_without_smtp_mails_are_files_and_links_are_printed(
    service: ServiceFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="netra.mail")
    async with service(SMTP_URL="") as client:
        answer = await client.post(
            "/auth/register", json={"email": "ada@example.com", "password": PASSWORD}
        )
        assert answer.status_code == 201
        folder = tmp_path / "data" / "mail"
        [path] = await until(lambda: _files(folder), "the mail is written to DATA_DIR/mail")
        text = path.read_text()
        assert "To: ada@example.com" in text
        lines = [record.getMessage() for record in caplog.records]
        printed = [line for line in lines if "verify-email?token=" in line]
        assert printed
        token = printed[0].split("token=")[1].split()[0]
        followed = await client.post("/auth/verify-email", json={"token": token})
        assert followed.status_code == 200


async def _files(folder: Path) -> list[Path]:
    return await asyncio.to_thread(lambda: sorted(folder.glob("*.eml")))


async def test_netra_mail_test_reports_the_server_answer(
    smtp: SmtpServer, mail_env: dict[str, str], tmp_path: Path
) -> None:
    env = {"ENVIRONMENT": "test", "DATA_DIR": str(tmp_path / "data"), **mail_env}
    sent = await asyncio.to_thread(
        CliRunner().invoke, cli, ["mail", "test", "ops@example.com"], env=env
    )
    assert sent.exit_code == 0, sent.output
    assert "2.0.0 queued as netra-test" in " ".join(sent.output.split())
    message = await smtp.mailbox.next()
    assert (message["To"], message["Subject"]) == ("ops@example.com", "Netra test mail")

    smtp.mailbox.refuse.add("ghost@example.com")
    refused = await asyncio.to_thread(
        CliRunner().invoke, cli, ["mail", "test", "ghost@example.com"], env=env
    )
    assert refused.exit_code == 1
    assert "550" in refused.output
    down = {**env, "SMTP_URL": f"smtp://127.0.0.1:{free_port()}"}
    unreachable = await asyncio.to_thread(
        CliRunner().invoke, cli, ["mail", "test", "ops@example.com"], env=down
    )
    assert unreachable.exit_code == 1
    assert "cannot reach smtp://127.0.0.1" in " ".join(unreachable.output.split())
