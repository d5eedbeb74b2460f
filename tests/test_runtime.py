"""The lifecycle's shape: components never import the composition root, declare their
socket subprotocol, and process state is reached one way (netra.runtime)."""

from __future__ import annotations

import ast
from collections.abc import Sequence
from pathlib import Path

import pytest
from fastapi import APIRouter
from starlette.testclient import TestClient
from starlette.websockets import WebSocket, WebSocketDisconnect

import netra
from netra.auth.app import create_app as create_auth_app
from netra.auth.state import AuthState
from netra.chat.backend import ChatBackend
from netra.chat.schema import CHAT_SCHEMA
from netra.close_codes import Close
from netra.embedded import create_app
from netra.health import Check
from netra.runtime import Runtime, runtime_of
from netra.service import build_app
from tests.support.apps import SettingsFactory, running

SOURCE = Path(netra.__file__).resolve().parent
# The app factories and the command line compose; nothing else may import the root.
COMPOSERS = {"auth/app.py", "chat/app.py", "embedded.py", "cli.py", "service.py"}


def imports_of(path: Path) -> set[str]:
    """Every module `path` imports, at any depth (function-level imports included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def test_no_module_but_the_composers_imports_the_composition_root() -> None:
    importers = {
        path.relative_to(SOURCE).as_posix()
        for path in SOURCE.rglob("*.py")
        if "netra.service" in imports_of(path)
    }
    assert importers - COMPOSERS == set()
    # The walk sees what it must: the factories do import it.
    assert {"auth/app.py", "chat/app.py", "embedded.py"} <= importers


class Echo:
    """A component serving one socket in its own subprotocol."""

    name = "echo"
    schema = CHAT_SCHEMA
    subprotocol = "echo.v9"

    def routers(self) -> Sequence[APIRouter]:
        api = APIRouter()

        @api.websocket("/echo")
        async def echo(websocket: WebSocket) -> None:
            await websocket.accept(subprotocol=self.subprotocol)
            await websocket.send_text(await websocket.receive_text())

        return [api]

    def checks(self, runtime: Runtime) -> Sequence[Check]:
        return []

    async def start(self, runtime: Runtime) -> None:
        pass

    async def drain(self) -> None:
        pass

    async def stop(self) -> None:
        pass


@pytest.mark.parametrize("offered", [["echo.v9"], ["netra.v1"], []])
def test_a_socket_refused_before_startup_is_answered_in_its_components_subprotocol(
    make_settings: SettingsFactory, offered: list[str]
) -> None:
    client = TestClient(build_app(make_settings(), [Echo()]))  # lifespan not entered
    with client.websocket_connect("/echo", subprotocols=offered) as ws:
        # Only the component's own subprotocol is ever selected, and only when offered.
        assert ws.accepted_subprotocol == ("echo.v9" if offered == ["echo.v9"] else None)
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    assert closed.value.code == Close.OVERLOADED


def test_a_started_component_serves_its_socket(make_settings: SettingsFactory) -> None:
    with (
        TestClient(build_app(make_settings(), [Echo()])) as client,
        client.websocket_connect("/echo", subprotocols=["echo.v9"]) as ws,
    ):
        ws.send_text("hello")
        assert ws.receive_text() == "hello"


async def test_process_state_lives_on_the_runtime_only(make_settings: SettingsFactory) -> None:
    app = create_app(make_settings())
    runtime = runtime_of(app)
    assert runtime.get(ChatBackend) is None  # nothing is served before startup
    async with running(app):
        assert set(app.state._state) == {"runtime"}
        backend, auth = runtime.get(ChatBackend), runtime.get(AuthState)
        assert backend is not None
        assert auth is not None
        assert backend.runtime is runtime
        assert runtime.verifier is auth.verifier  # embedded: one verifier, in process


async def test_an_auth_only_process_provides_no_chat_backend(
    make_settings: SettingsFactory,
) -> None:
    app = create_auth_app(make_settings())
    async with running(app) as client:
        assert runtime_of(app).get(AuthState) is not None
        assert runtime_of(app).get(ChatBackend) is None
        assert (await client.get("/api/threads")).status_code == 404
