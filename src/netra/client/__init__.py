"""The async Python SDK: sign in, threads, send, and a resumable stream of agent events.

Safe inside a running event loop (it never calls `asyncio.run`, docs/incidents.md I-2):

    async with NetraClient("http://127.0.0.1:8000") as netra:
        await netra.sign_in("me@example.com", "password")
        thread = await netra.create_thread("Plans")
        async for event in netra.ask(thread.id, "What's on my list?"):
            print(event.type, event.payload)
"""

from netra.client.client import Assistant, Model, NetraClient, Thread, Tokens
from netra.client.errors import (
    Conflict,
    Forbidden,
    InvalidRequest,
    MfaRequired,
    NetraError,
    NotFound,
    RateLimited,
    StreamClosed,
    Unauthorized,
    Unavailable,
)
from netra.client.stream import EventStream, ServerEvent

__all__ = [
    "Assistant",
    "Conflict",
    "EventStream",
    "Forbidden",
    "InvalidRequest",
    "MfaRequired",
    "Model",
    "NetraClient",
    "NetraError",
    "NotFound",
    "RateLimited",
    "ServerEvent",
    "StreamClosed",
    "Thread",
    "Tokens",
    "Unauthorized",
    "Unavailable",
]
