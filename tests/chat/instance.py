"""A backend process for the multi-instance test: `python -m tests.chat.instance PORT`
(DATABASE_URL and REDIS_URL from the environment; the test stand-ins for agent and
verifier)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import uvicorn

from netra.settings import Service, load_settings
from tests.chat.conftest import chat_app


def main() -> None:
    port = int(sys.argv[1])
    environ = {**os.environ, "ENVIRONMENT": "test", "DATA_DIR": str(Path.cwd() / "data")}
    settings = load_settings([Service.BACKEND], environ, cwd=Path.cwd())
    config = uvicorn.Config(
        chat_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    asyncio.run(uvicorn.Server(config).serve())


if __name__ == "__main__":
    main()
