"""App factory of the auth service deployed on its own (`netra serve auth`)."""

from fastapi import FastAPI

from netra.auth.component import AuthComponent
from netra.service import build_app
from netra.settings import Settings


def create_app(settings: Settings) -> FastAPI:
    return build_app(settings, [AuthComponent()])
