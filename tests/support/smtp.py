"""A real SMTP server (aiosmtpd) in a thread of the test process, whose mailbox a test
reads: each delivered message, its links, and the tokens in them."""

from __future__ import annotations

import asyncio
import re
import socket
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller

LINK = re.compile(r"https?://\S+")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Mailbox:
    """The aiosmtpd handler: keeps what arrives; can refuse recipients or hold a delivery."""

    def __init__(self) -> None:
        self.refuse: set[str] = set()
        self.held = threading.Event()  # set: DATA is answered only once `release()` is called
        self._released = threading.Event()
        self._queue: asyncio.Queue[EmailMessage] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.held.is_set():
            await asyncio.to_thread(self._released.wait)
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self._loop.call_soon_threadsafe(self._queue.put_nowait, message)
        return "250 2.0.0 queued as netra-test"

    def release(self) -> None:
        self.held.clear()
        self._released.set()

    async def next(self, timeout: float = 20.0) -> EmailMessage:
        """The next delivered message (waits for it; fails after `timeout`)."""
        async with asyncio.timeout(timeout):
            return await self._queue.get()

    def empty(self) -> bool:
        return self._queue.empty()


class SmtpServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.mailbox = Mailbox()
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self.mailbox.release()
        self._controller.stop()


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def html_of(message: EmailMessage) -> str:
    body = message.get_body(("html",))
    assert body is not None
    return str(body.get_content())


def link_in(message: EmailMessage) -> str:
    links = LINK.findall(text_of(message))
    assert len(links) == 1, links
    return str(links[0])


def token_in(message: EmailMessage) -> str:
    return parse_qs(urlsplit(link_in(message)).query)["token"][0]
