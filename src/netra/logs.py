"""Logging: readable in development, JSON lines in staging/production, every record
carrying its request id, and secrets and tokens redacted by construction.

Redaction happens in the formatter, on the final text (message, arguments, traceback),
so no call site can forget it: bearer tokens, JWTs, API keys, URL passwords,
`password=`-style pairs, OIDC `code`/`state` query parameters, and the exact values of
every secret setting (OIDC client secrets included).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TextIO

from pydantic import SecretStr
from rich.console import Console
from rich.logging import RichHandler

from netra.health.observe import current_trace_id, request_id
from netra.settings import Settings

REDACTED = "[redacted]"
_PATTERNS = [
    (re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), REDACTED),
    (re.compile(r"(?i)\b(bearer)([ .]+)[A-Za-z0-9._~+/=-]{8,}"), rf"\1\2{REDACTED}"),
    (re.compile(r"\bnk_[A-Za-z0-9_-]{8,}"), REDACTED),
    (re.compile(r"([a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s/]+@", re.I), r"\1***@"),
    (
        re.compile(
            r"(?i)\b(password|passwd|secret|token|api[_-]?key|authorization|refresh_token"
            r"|access_token|client_secret)(\"?'?\s*[:=]\s*\"?'?)([^\s\"'&,;}]+)"
        ),
        rf"\1\2{REDACTED}",
    ),
    # OIDC callbacks carry a one-time code and state in the query (access logs print it).
    (re.compile(r"(?i)([?&](?:code|state|session_state|id_token)=)[^&\s\"']+"), rf"\1{REDACTED}"),
]


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret containing another is removed whole.
        self.secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text


def secret_values(settings: Settings) -> list[str]:
    """Every secret setting's value, to be scrubbed wherever it might appear."""
    values = []
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            values.append(value.get_secret_value())
        elif isinstance(value, dict):  # a family such as OIDC_<NAME>_CLIENT_SECRET
            values += [
                item.get_secret_value()
                for key, item in value.items()
                if isinstance(item, SecretStr) and key.endswith("SECRET")
            ]
    return values


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.trace_id = current_trace_id()
        return True


class ConsoleFormatter(logging.Formatter):
    def __init__(self, redact: Redactor) -> None:
        super().__init__("%(message)s")
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        rid = getattr(record, "request_id", None)
        tid = getattr(record, "trace_id", None)
        ids = " ".join(filter(None, (rid, tid and f"trace={tid}")))
        return self.redact(f"{text} [{ids}]" if ids else text)


class JsonFormatter(logging.Formatter):
    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": self.redact(record.getMessage()),
        }
        rid = getattr(record, "request_id", None)
        if rid:
            entry["request_id"] = rid
        tid = getattr(record, "trace_id", None)
        if tid:
            entry["trace_id"] = tid
        if record.exc_info:
            entry["exception"] = self.redact(self.formatException(record.exc_info))
        return json.dumps(entry)


def build_handler(settings: Settings, stream: TextIO | None = None) -> logging.Handler:
    """The one handler every Netra process logs through."""
    redact = Redactor(secret_values(settings))
    fmt = settings.log_format
    if fmt == "auto":
        fmt = "console" if settings.environment.is_local else "json"
    handler: logging.Handler
    if fmt == "json":
        handler = logging.StreamHandler(stream)
        handler.setFormatter(JsonFormatter(redact))
    else:
        console = Console(file=stream, stderr=stream is None)
        handler = RichHandler(console=console, show_path=False, rich_tracebacks=False)
        handler.setFormatter(ConsoleFormatter(redact))
    handler.addFilter(_RequestIdFilter())
    return handler


def configure_logging(settings: Settings) -> None:
    root = logging.getLogger()
    root.handlers[:] = [build_handler(settings)]
    root.setLevel(settings.log_level)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # The MCP SDK's server logs every stateless /mcp request's transport at INFO (the
    # access log already has the request); its warnings and errors still come through.
    logging.getLogger("mcp.server.streamable_http").setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
