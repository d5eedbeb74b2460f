"""A backend process for the multi-instance test: `python -m tests.chat.instance --port N`.

`netra serve backend` with the scripted agent (or, when MODELS_FILE is set, the models
file's): settings from the environment (DATABASE_URL, REDIS_URL, AUTH_SERVICE_URL,
SERVICE_SECRET, ...), tokens verified against the auth service's JWKS, as every deployed
backend does."""

from __future__ import annotations

import asyncio
import sys

from netra.chat.component import ChatComponent
from netra.logs import configure_logging
from netra.service import build_app
from netra.serving import serve
from netra.settings import Service, load_settings
from netra.testing import ScriptedAgent


def main() -> None:
    port = int(sys.argv[sys.argv.index("--port") + 1])
    settings = load_settings([Service.BACKEND])
    configure_logging(settings)
    if settings.models_file is not None:
        chat = ChatComponent()
    else:
        chat = ChatComponent(agent_factory=lambda _: ScriptedAgent())
    app = build_app(settings, [chat])
    asyncio.run(serve(app, "127.0.0.1", port))


if __name__ == "__main__":
    main()
