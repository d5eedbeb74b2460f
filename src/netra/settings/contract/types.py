"""Value types and per-environment defaults the contract's sections share."""

from __future__ import annotations

import ipaddress
from typing import Annotated

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
)

from netra.settings.spec import (
    Environment,
)

LOCAL = {Environment.DEVELOPMENT: True, Environment.TEST: True}
DEPLOYED_OFF = {**LOCAL, Environment.STAGING: False, Environment.PRODUCTION: False}

Port = Annotated[int, Field(ge=1, le=65535)]
Seconds = Annotated[float, Field(gt=0, le=86400 * 366)]
NonNegativeSeconds = Annotated[float, Field(ge=0, le=3600)]


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


CommaList = Annotated[list[str], BeforeValidator(_split_csv)]


def _networks(value: list[str]) -> list[str]:
    for item in value:
        ipaddress.ip_network(item, strict=False)  # ValueError names the bad entry
    return value


NetworkList = Annotated[list[str], BeforeValidator(_split_csv), AfterValidator(_networks)]
