"""Every domain error has an answer in each transport's table: a new error class
without a row fails here, not as a 500 in production."""

from __future__ import annotations

import importlib
import pkgutil

import netra
from netra.chat.errors import ChatError
from netra.chat.ws import errors as ws_errors
from netra.errors import DomainError
from netra.http_errors import ANSWERS as HTTP_ANSWERS
from netra.tokens import TokenRejected


def leaves(base: type[DomainError]) -> set[type[DomainError]]:
    """Every class under `base` that nothing subclasses, once all of netra is imported."""
    for module in pkgutil.walk_packages(netra.__path__, "netra."):
        importlib.import_module(module.name)
    found: set[type[DomainError]] = set()
    todo = [base]
    while todo:
        cls = todo.pop()
        children = cls.__subclasses__()
        todo.extend(children)
        if not children:
            found.add(cls)
    return found


def test_every_domain_error_has_an_http_row() -> None:
    missing = {cls.__qualname__ for cls in leaves(DomainError) if cls not in HTTP_ANSWERS}
    assert not missing, f"add a row to netra.http_errors.ANSWERS for {sorted(missing)}"


def test_every_chat_error_has_a_socket_row() -> None:
    needed = leaves(ChatError) | {TokenRejected}
    missing = {cls.__qualname__ for cls in needed if cls not in ws_errors.ANSWERS}
    assert not missing, f"add a row to netra.chat.ws.errors.ANSWERS for {sorted(missing)}"


def test_every_chat_error_has_a_stable_reason() -> None:
    for cls in leaves(ChatError):
        assert cls.reason != DomainError.reason, cls
