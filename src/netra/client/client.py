"""NetraClient: HTTP calls to the auth service and the backend, and event streams."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from types import EllipsisType, TracebackType
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection

from netra.client.errors import MfaRequired, Unauthorized, from_response
from netra.client.models import (
    Assistant,
    Model,
    Thread,
    Tokens,
    TotpEnrolment,
    assistant_from,
    thread_from,
)
from netra.client.stream import EventStream, ServerEvent, open_socket

_UNSET: Any = object()


class NetraClient:
    """One user's session. `auth_url` defaults to `base_url` (the embedded deployment)."""

    def __init__(
        self,
        base_url: str,
        *,
        auth_url: str | None = None,
        access_token: str | None = None,
        refresh_token: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth_url = (auth_url or base_url).rstrip("/")
        self.tokens = Tokens(access_token, refresh_token) if access_token else None
        self.http = httpx.AsyncClient(timeout=timeout)

    async def __aenter__(self) -> NetraClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    # --- auth service --------------------------------------------------------------
    async def sign_in(
        self, email: str, password: str, *, totp: str | Callable[[], str] | None = None
    ) -> Tokens:
        """Sign in with a password. An account with a second factor needs `totp`: the
        current code, or a function that makes it (e.g. `pyotp.TOTP(secret).now`);
        without it, `MfaRequired` carries the token for `complete_sign_in`."""
        data = await self._call(
            "POST",
            f"{self.auth_url}/auth/login",
            auth=False,
            json={"email": email, "password": password},
        )
        if data.get("mfa_required"):
            if totp is None:
                raise MfaRequired(data["mfa_token"], list(data.get("methods", [])))
            code = totp() if callable(totp) else totp
            return await self.complete_sign_in(data["mfa_token"], code=code)
        self.tokens = Tokens(data["access_token"], data.get("refresh_token"))
        return self.tokens

    async def complete_sign_in(
        self, mfa_token: str, *, code: str | None = None, recovery_code: str | None = None
    ) -> Tokens:
        """The second step of a sign-in: a TOTP code or a recovery code."""
        factor = {"code": code} if code is not None else {"recovery_code": recovery_code}
        data = await self._call(
            "POST",
            f"{self.auth_url}/auth/login/mfa",
            auth=False,
            json={"mfa_token": mfa_token, **factor},
        )
        self.tokens = Tokens(data["access_token"], data.get("refresh_token"))
        return self.tokens

    async def me(self) -> dict[str, Any]:
        """The signed-in account (`email_verified`, `mfa_enabled`, ...)."""
        data: dict[str, Any] = await self._call("GET", f"{self.auth_url}/auth/me")
        return data

    async def enrol_totp(self, password: str) -> TotpEnrolment:
        """Start two-factor sign-in: the secret to put in an authenticator app."""
        data = await self._call(
            "POST", f"{self.auth_url}/auth/mfa/totp/setup", json={"password": password}
        )
        return TotpEnrolment(data["secret"], data["otpauth_uri"], data["qr_svg"])

    async def confirm_totp(self, code: str) -> list[str]:
        """Finish enrolment with a first code; returns the recovery codes (shown once)."""
        data = await self._call(
            "POST", f"{self.auth_url}/auth/mfa/totp/confirm", json={"code": code}
        )
        return list(data["recovery_codes"])

    async def register(self, email: str, password: str, name: str | None = None) -> None:
        """Create an account (the auth service answers alike whether or not it existed)."""
        body = {"email": email, "password": password} | ({"name": name} if name else {})
        await self._call("POST", f"{self.auth_url}/auth/register", auth=False, json=body)

    async def logout(self) -> None:
        """End this session: its refresh token stops working at once."""
        await self._call("POST", f"{self.auth_url}/auth/logout")

    async def refresh(self) -> Tokens:
        """A new token pair from the refresh token (rotated by the auth service)."""
        if self.tokens is None or self.tokens.refresh_token is None:
            raise Unauthorized(401, "missing", "no refresh token: sign in again")
        data = await self._call(
            "POST",
            f"{self.auth_url}/auth/refresh",
            auth=False,
            json={"refresh_token": self.tokens.refresh_token},
        )
        self.tokens = Tokens(data["access_token"], data.get("refresh_token"))
        return self.tokens

    async def access_token(self, fresh: bool = False) -> str:
        if fresh:
            await self.refresh()
        if self.tokens is None:
            raise Unauthorized(401, "missing", "not signed in")
        return self.tokens.access_token

    # --- threads and messages ----------------------------------------------------
    async def list_threads(self, limit: int = 50) -> list[Thread]:
        rows = await self._call("GET", "/api/threads", params={"limit": limit})
        return [thread_from(row) for row in rows]

    async def create_thread(
        self, title: str = "New chat", model: str | None = None, assistant_id: str | None = None
    ) -> Thread:
        """A thread with a default `model` and started with an assistant (None: the
        server's default model, the builtin assistant)."""
        body: dict[str, Any] = {"title": title}
        if model:
            body["model"] = model
        if assistant_id:
            body["assistant_id"] = assistant_id
        return thread_from(await self._call("POST", "/api/threads", json=body))

    async def set_thread_assistant(self, thread_id: str, assistant_id: str | None) -> Thread:
        """The thread's assistant from its next message on (None: the builtin one)."""
        body = {"assistant_id": assistant_id}
        return thread_from(await self._call("PATCH", f"/api/threads/{thread_id}", json=body))

    # --- assistants ----------------------------------------------------------------
    async def list_assistants(self) -> list[Assistant]:
        """The builtin assistant, the shared ones and the caller's own."""
        return [assistant_from(row) for row in await self._call("GET", "/api/assistants")]

    async def get_assistant(self, assistant_id: str) -> Assistant:
        return assistant_from(await self._call("GET", f"/api/assistants/{assistant_id}"))

    async def create_assistant(
        self,
        name: str,
        *,
        instructions: str = "",
        model: str | None = None,
        tools: tuple[str, ...] | list[str] = (),
        starters: tuple[str, ...] | list[str] = (),
        shared: bool = False,
    ) -> Assistant:
        """A personal assistant (`shared=True`: one for everyone, admins only)."""
        body = {
            "name": name,
            "instructions": instructions,
            "model": model,
            "tools": list(tools),
            "starters": list(starters),
            "shared": shared,
        }
        return assistant_from(await self._call("POST", "/api/assistants", json=body))

    async def update_assistant(
        self,
        assistant_id: str,
        *,
        name: str | None = None,
        instructions: str | None = None,
        model: str | None = _UNSET,
        tools: tuple[str, ...] | list[str] | None = None,
        starters: tuple[str, ...] | list[str] | None = None,
    ) -> Assistant:
        """Change the fields given (`model=None`: the thread's or default model)."""
        body: dict[str, Any] = {}
        for key, value in (("name", name), ("instructions", instructions)):
            if value is not None:
                body[key] = value
        for key, items in (("tools", tools), ("starters", starters)):
            if items is not None:
                body[key] = list(items)
        if model is not _UNSET:
            body["model"] = model
        path = f"/api/assistants/{assistant_id}"
        return assistant_from(await self._call("PATCH", path, json=body))

    async def delete_assistant(self, assistant_id: str) -> None:
        await self._call("DELETE", f"/api/assistants/{assistant_id}")

    async def set_thread_model(self, thread_id: str, model: str | None) -> Thread:
        """The thread's default model (None: the server's default)."""
        return thread_from(
            await self._call("PATCH", f"/api/threads/{thread_id}", json={"model": model})
        )

    async def list_models(self) -> list[Model]:
        rows = await self._call("GET", "/api/models")
        return [
            Model(row["id"], row["label"], tuple(row["capabilities"]), row["default"])
            for row in rows
        ]

    async def rename_thread(self, thread_id: str, title: str) -> Thread:
        return thread_from(
            await self._call("PATCH", f"/api/threads/{thread_id}", json={"title": title})
        )

    async def delete_thread(self, thread_id: str) -> None:
        await self._call("DELETE", f"/api/threads/{thread_id}")

    async def messages(
        self, thread_id: str, limit: int = 50, cursor: str | None = None, view: str = "path"
    ) -> dict[str, Any]:
        """A page of the branch the thread shows (root first), or with `view="tree"` of
        every message; each carries `parent_id` and `sibling_ids`."""
        params: dict[str, Any] = {"limit": limit, "view": view}
        if cursor:
            params["cursor"] = cursor
        return dict(await self._call("GET", f"/api/threads/{thread_id}/messages", params=params))

    async def shown_branch(self, thread_id: str) -> list[dict[str, Any]]:
        """Every message of the branch the thread shows, root first (all its pages)."""
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = await self.messages(thread_id, 200, cursor)
            items += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                return items

    async def send(
        self,
        thread_id: str,
        text: str,
        client_msg_id: str | None = None,
        model: str | None = None,
        interrupt: bool = False,
        *,
        file_ids: list[str] | None = None,
        parent_id: str | EllipsisType | None = ...,
    ) -> dict[str, Any]:
        """Post a message (retry-safe: one run per client_msg_id); returns ids and after_seq.
        `model`: this message's catalog model instead of the thread's. While the thread's
        run is going the server answers 409 run_active, unless `interrupt` stops it.
        `file_ids`: files of this thread (`upload_file`) the message attaches.
        `parent_id`: the message it follows (None: a new first message); left out, the
        last of the branch the thread shows."""
        body: dict[str, Any] = {"text": text, "client_msg_id": client_msg_id or str(uuid.uuid4())}
        if model:
            body["model"] = model
        if interrupt:
            body["interrupt"] = True
        if file_ids:
            body["file_ids"] = list(file_ids)
        if parent_id is not ...:
            body["parent_id"] = parent_id
        return dict(await self._call("POST", f"/api/threads/{thread_id}/messages", json=body))

    async def edit(
        self, message: dict[str, Any], text: str, model: str | None = None
    ) -> dict[str, Any]:
        """Edit a sent message (as `messages()` gave it): post `text` as its sibling, which
        the agent answers; the thread then shows the new branch."""
        return await self.send(
            message["thread_id"], text, model=model, parent_id=message["parent_id"]
        )

    async def regenerate(self, message_id: str, model: str | None = None) -> dict[str, Any]:
        """Answer again the question the answer `message_id` answered (optionally with
        another catalog model); returns the new run, with `after_seq` to follow it."""
        body = {"model": model} if model else {}
        return dict(await self._call("POST", f"/api/messages/{message_id}/regenerate", json=body))

    async def show_branch(self, thread_id: str, message_id: str) -> Thread:
        """Show the branch through `message_id` (a sibling from `sibling_ids`)."""
        body = {"message_id": message_id}
        return thread_from(
            await self._call("PUT", f"/api/threads/{thread_id}/active-leaf", json=body)
        )

    # --- files ---------------------------------------------------------------------
    async def upload_file(self, thread_id: str, name: str, data: bytes) -> dict[str, Any]:
        """Keep a file in the thread: `{id, name, size, content_type, ...}` (the type is
        the server's reading of the bytes; `name` is for display)."""
        files = {"file": (name, data, "application/octet-stream")}
        return dict(await self._call("POST", f"/api/threads/{thread_id}/files", files=files))

    async def list_files(self, thread_id: str) -> list[dict[str, Any]]:
        return list(await self._call("GET", f"/api/threads/{thread_id}/files"))

    async def download_file(self, file_id: str) -> bytes:
        return bytes(await self._call("GET", f"/api/files/{file_id}", raw=True))

    async def delete_file(self, file_id: str) -> None:
        await self._call("DELETE", f"/api/files/{file_id}")

    async def cancel_run(self, run_id: str) -> dict[str, Any]:
        return dict(await self._call("POST", f"/api/runs/{run_id}/cancel"))

    async def answer_approval(
        self, run_id: str, call_id: str, approved: bool, note: str | None = None
    ) -> dict[str, Any]:
        """Approve or decline the tool call a run waits on (`approval_required`); a call
        answered already raises with reason `already_resolved`."""
        body = {"approved": approved, "note": note}
        return dict(await self._call("POST", f"/api/runs/{run_id}/approvals/{call_id}", json=body))

    async def get_run(self, run_id: str) -> dict[str, Any]:
        return dict(await self._call("GET", f"/api/runs/{run_id}"))

    # --- events --------------------------------------------------------------------
    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http", "ws", 1) + "/ws"

    async def connect(self) -> ClientConnection:
        """One authenticated /ws connection, no retries (the protocol is docs/protocol.md);
        `stream()` is the reconnecting, resuming alternative."""
        return await open_socket(self.ws_url, await self.access_token())

    def stream(
        self, thread_id: str, after_seq: int = 0, until_run: str | None = None
    ) -> EventStream:
        """Live events of a thread after `after_seq`, reconnecting and resuming as needed."""
        return EventStream(
            self.ws_url, self.access_token, thread_id, after_seq=after_seq, until_run=until_run
        )

    async def ask(self, thread_id: str, text: str, model: str | None = None) -> Any:
        """Send `text` and yield its run's events up to the answer (or the error)."""
        posted = await self.send(thread_id, text, model=model)
        async for event in self.follow(thread_id, posted):
            yield event

    async def follow(self, thread_id: str, posted: dict[str, Any]) -> Any:
        """The events of a run `send`, `edit` or `regenerate` started, up to its end."""
        async for event in self.stream(thread_id, posted["after_seq"], posted["run_id"]):
            if event.run_id == posted["run_id"]:
                yield event

    # --- plumbing ------------------------------------------------------------------
    async def _call(
        self, method: str, path: str, *, auth: bool = True, raw: bool = False, **kwargs: Any
    ) -> Any:
        """The answer's JSON (its bytes if `raw`); a NetraError for a 4xx/5xx."""
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        for attempt in range(2):
            headers = {"Authorization": f"Bearer {await self.access_token()}"} if auth else {}
            response = await self.http.request(method, url, headers=headers, **kwargs)
            can_refresh = self.tokens is not None and self.tokens.refresh_token is not None
            if response.status_code == 401 and auth and attempt == 0 and can_refresh:
                await self.refresh()
                continue
            if response.status_code >= 400:
                raise from_response(response)
            if raw:
                return response.content
            return response.json() if response.content else None
        raise AssertionError("unreachable")


__all__ = ["Assistant", "Model", "NetraClient", "ServerEvent", "Thread", "Tokens"]
