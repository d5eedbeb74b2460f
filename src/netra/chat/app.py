"""App factory of the chat backend deployed on its own (`netra serve backend`)."""

from fastapi import FastAPI

from netra.chat.component import ChatComponent
from netra.service import build_app
from netra.settings import Settings


def create_app(settings: Settings) -> FastAPI:
    return build_app(settings, [ChatComponent()])
