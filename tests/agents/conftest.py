"""Fixtures for the agent runtime: a run context, and a real scripted model server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from netra.agents import RunContext
from netra.testing import ScriptedModelServer
from tests.support.agents import make_context


@pytest.fixture
def context() -> RunContext:
    return make_context()


@pytest.fixture
async def scripted() -> AsyncIterator[ScriptedModelServer]:
    """An OpenAI-compatible server on a free port answering what the test scripts."""
    async with ScriptedModelServer() as server:
        yield server
