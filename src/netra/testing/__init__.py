"""Test support that ships with Netra, as httpx ships `MockTransport`: real Netra
processes on free ports, waiting until they serve, real accounts, a scripted agent and
a scripted OpenAI-compatible server. No pytest in here: tests, benches and anyone
testing against Netra import it alike (docs/development.md)."""

from netra.testing.accounts import PASSWORD, Users, bearer, sign_up
from netra.testing.agents import ScriptedAgent
from netra.testing.model_server import ScriptedModelServer, answer_chunks, chunk
from netra.testing.ports import free_port, wait_listening
from netra.testing.processes import NetraProcess, netra_env, run_netra
from netra.testing.servers import AppServer
from netra.testing.waiting import eventually, wait_ready, wait_until

__all__ = [
    "PASSWORD",
    "AppServer",
    "NetraProcess",
    "ScriptedAgent",
    "ScriptedModelServer",
    "Users",
    "answer_chunks",
    "bearer",
    "chunk",
    "eventually",
    "free_port",
    "netra_env",
    "run_netra",
    "sign_up",
    "wait_listening",
    "wait_ready",
    "wait_until",
]
