"""The embedded default: auth and backend in one process on one port (`netra up`)."""

from fastapi import FastAPI

from netra.auth.component import AuthComponent
from netra.chat.component import ChatComponent
from netra.service import build_app
from netra.settings import Settings


def create_app(settings: Settings) -> FastAPI:
    return build_app(settings, [AuthComponent(), ChatComponent()])
