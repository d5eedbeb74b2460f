"""The process environment as the tools a command runs see it (podman, uv, pip): their
own variables (PATH, HOME, CONTAINERS_CONF, REGISTRY_AUTH_FILE, ...), never a Netra
setting, which only the resolver reads. Kept here so that this package stays the one
place that reads the environment."""

from __future__ import annotations

import os


def tool_environment(**extra: str) -> dict[str, str]:
    """A copy of the environment for a child tool, with `extra` on top."""
    return {**os.environ, **extra}
