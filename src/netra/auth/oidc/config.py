"""Providers from the settings contract: `OIDC_PROVIDERS=google,corp` and, per provider,
`OIDC_<NAME>_ISSUER`, `_CLIENT_ID`, `_CLIENT_SECRET`, `_REDIRECT_URL`, `_SCOPES`,
`_DISPLAY_NAME`. `check_oidc_settings` reports every mistake by variable name; startup
and `netra config check` run it."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from pydantic import SecretStr

from netra.settings import Environment, Problem, Settings

KEYS = (
    "ISSUER",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "REDIRECT_URL",
    "SCOPES",
    "DISPLAY_NAME",
    "TRUST_EMAIL",
)
BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
NAME = re.compile(r"^[a-z][a-z0-9]{0,29}$")
GOOGLE_ISSUER = "https://accounts.google.com"
PRESETS = {"google": {"ISSUER": GOOGLE_ISSUER, "DISPLAY_NAME": "Google"}}
DEFAULT_SCOPES = "openid email profile"


@dataclass(frozen=True)
class ProviderConfig:
    name: str
    display_name: str
    issuer: str
    client_id: str
    client_secret: SecretStr | None
    redirect_url: str
    scopes: tuple[str, ...]
    # Keycloak's "trust email": the provider's `email_verified` may join an existing
    # account (only one whose email Netra verified too). Off unless set.
    trust_email: bool = False

    def callback_path(self) -> str:
        return callback_path(self.name)


def callback_path(name: str) -> str:
    return f"/auth/oidc/{name}/callback"


def _variable(name: str, key: str) -> str:
    return f"OIDC_{name.upper()}_{key}"


def _url_problems(
    variable: str, value: str, environment: Environment, *, path: str | None = None
) -> list[Problem]:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [Problem(variable, f"{value!r} is not an http(s) URL")]
    problems = []
    if parts.scheme != "https" and not environment.is_local:
        problems.append(Problem(variable, f"must use https in {environment.value} (got {value!r})"))
    if parts.query or parts.fragment:
        problems.append(Problem(variable, f"must not carry a query or fragment (got {value!r})"))
    if path is not None and parts.path != path:
        problems.append(
            Problem(
                variable,
                f"must end with exactly {path} (got {value!r}): the provider sends users "
                "back to this URL, and it must match the one registered there character "
                "for character",
            )
        )
    return problems


def _one(
    settings: Settings, name: str, values: dict[str, str]
) -> tuple[ProviderConfig | None, list[Problem]]:
    preset = PRESETS.get(name, {})
    env = settings.environment
    problems: list[Problem] = []
    issuer = values.get("ISSUER") or preset.get("ISSUER")
    if issuer is None:
        problems.append(Problem(_variable(name, "ISSUER"), "is required (the provider's URL)"))
    else:
        if "ISSUER" in preset and issuer != preset["ISSUER"]:
            problems.append(
                Problem(
                    _variable(name, "ISSUER"),
                    f"is {issuer!r}, but {name}'s issuer is {preset['ISSUER']!r} "
                    "(unset it to use the preset)",
                )
            )
        problems += _url_problems(_variable(name, "ISSUER"), issuer, env)
    client_id = values.get("CLIENT_ID")
    if not client_id:
        problems.append(Problem(_variable(name, "CLIENT_ID"), "is required"))
    secret = values.get("CLIENT_SECRET")
    if not secret and not env.is_local:
        problems.append(
            Problem(
                _variable(name, "CLIENT_SECRET"),
                f"is required in {env.value} (the client secret the provider issued)",
            )
        )
    redirect = values.get("REDIRECT_URL")
    if redirect is None and settings.public_url is not None:
        redirect = str(settings.public_url).rstrip("/") + callback_path(name)
    if redirect is None:
        problems.append(
            Problem(
                _variable(name, "REDIRECT_URL"),
                f"is required when PUBLIC_URL is not set (e.g. https://chat.example.com"
                f"{callback_path(name)})",
            )
        )
    else:
        problems += _url_problems(
            _variable(name, "REDIRECT_URL"), redirect, env, path=callback_path(name)
        )
    scopes = tuple((values.get("SCOPES") or DEFAULT_SCOPES).replace(",", " ").split())
    if "openid" not in scopes:
        problems.append(Problem(_variable(name, "SCOPES"), "must include openid"))
    if problems or issuer is None or client_id is None or redirect is None:
        return None, problems
    display = values.get("DISPLAY_NAME") or preset.get("DISPLAY_NAME") or name.capitalize()
    trust = values.get("TRUST_EMAIL", "false").strip().lower()
    if trust not in BOOLEANS:
        problems.append(Problem(_variable(name, "TRUST_EMAIL"), "must be true or false"))
        return None, problems
    return (
        ProviderConfig(
            name=name,
            display_name=display,
            issuer=issuer,
            client_id=client_id,
            client_secret=SecretStr(secret) if secret else None,
            redirect_url=redirect,
            scopes=scopes,
            trust_email=BOOLEANS[trust],
        ),
        [],
    )


def _family(settings: Settings) -> dict[str, str]:
    family = settings.oidc_provider_settings or {}
    return {key: value.get_secret_value() for key, value in family.items()}


def _stray(family: dict[str, str], names: list[str]) -> Iterable[Problem]:
    """Variables that configure nothing: a typo in a key or a provider not listed."""
    for variable in sorted(family):
        matched = [n for n in names if variable.startswith(f"OIDC_{n.upper()}_")]
        if matched:
            key = variable[len(f"OIDC_{matched[0].upper()}_") :]
            if key not in KEYS:
                close = difflib.get_close_matches(key, KEYS, n=1)
                hint = f"did you mean {_variable(matched[0], close[0])}?" if close else None
                yield Problem(variable, f"is not a setting (known: {', '.join(KEYS)})", hint)
        else:
            listed = ", ".join(names) or "nothing"
            yield Problem(
                variable,
                f"is set, but OIDC_PROVIDERS lists {listed}",
                hint="add the provider's name to OIDC_PROVIDERS or remove the variable",
            )


def parse_providers(settings: Settings) -> tuple[list[ProviderConfig], list[Problem]]:
    """Every configured provider, and every problem of the configuration."""
    family = _family(settings)
    names = [name.strip().lower() for name in settings.oidc_providers]
    problems = list(_stray(family, names))
    providers = []
    for name in names:
        if not NAME.match(name):
            problems.append(
                Problem("OIDC_PROVIDERS", f"{name!r} is not a provider name (a-z, 0-9, ≤ 30)")
            )
            continue
        if names.count(name) > 1:
            problems.append(Problem("OIDC_PROVIDERS", f"lists {name!r} twice"))
            continue
        prefix = f"OIDC_{name.upper()}_"
        values = {k[len(prefix) :]: v for k, v in family.items() if k.startswith(prefix)}
        provider, found = _one(settings, name, values)
        problems += found
        if provider is not None:
            providers.append(provider)
    return providers, problems


def check_oidc_settings(settings: Settings) -> Iterable[Problem]:
    """The contract check for OIDC providers (`netra config check`, startup)."""
    return parse_providers(settings)[1]
