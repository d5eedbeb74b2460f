"""The vocabulary of the configuration contract: services, environments, per-setting specs."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Service(StrEnum):
    """A deployable service; the embedded default runs both in one process."""

    AUTH = "auth"
    BACKEND = "backend"


class Role(StrEnum):
    """A release step that runs from the same image but serves nothing: it reads only
    what it uses (least privilege: no app secrets in a migration job)."""

    MIGRATE = "migrate"


Reader = Service | Role
"""Who reads a setting: a service, or a release step."""


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    STAGING = "staging"
    PRODUCTION = "production"

    @property
    def is_local(self) -> bool:
        """Development and test: the only environments where secrets may be generated."""
        return self in (Environment.DEVELOPMENT, Environment.TEST)


BOTH = frozenset({Service.AUTH, Service.BACKEND})
AUTH = frozenset({Service.AUTH})
BACKEND = frozenset({Service.BACKEND})
# The process and its database: what `netra migrate` needs, and nothing else.
DATABASE: frozenset[Reader] = frozenset({Service.AUTH, Service.BACKEND, Role.MIGRATE})
CLIENTS: frozenset[Service] = frozenset()  # read by command-line clients, no service
DEPLOYED = frozenset({Environment.STAGING, Environment.PRODUCTION})
EVERYWHERE = frozenset(Environment)


def token_urlsafe_32() -> str:
    """A fresh 256-bit secret, for development and test only."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Spec:
    """What the contract says about one setting, beside its type and default.

    `names` is the lookup chain, first match wins; `{ENVIRONMENT}` expands to the
    upper-cased environment name. Without names, the field name upper-cased is used.
    """

    services: frozenset[Reader]
    doc: str
    secret: bool = False
    required_in: frozenset[Environment] = frozenset()
    names: tuple[str, ...] = ()
    env_defaults: Mapping[Environment, Any] = field(default_factory=dict)
    generate: Callable[[], str] | None = None
    example: str | None = None
    # A family of variables sharing this prefix (`OIDC_GOOGLE_ISSUER`, ...): the value is
    # a mapping from each variable's name to its value; declared names are not members.
    prefix: str | None = None
    # A random secret of Netra's own (not a provider's password): staging and production
    # refuse one weaker than 32 random bytes (netra.settings.strength).
    strong: bool = False

    def lookup_names(self, field_name: str, environment: Environment) -> list[str]:
        chain = self.names or (field_name.upper(),)
        return [name.replace("{ENVIRONMENT}", environment.value.upper()) for name in chain]

    def display_name(self, field_name: str) -> str:
        return (self.names or (field_name.upper(),))[0]
