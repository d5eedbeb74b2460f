"""The auth service as a component of an app (alone, or embedded beside the backend)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from fastapi import APIRouter
from sqlalchemy.exc import SQLAlchemyError

from netra import db
from netra.auth.oidc.config import parse_providers
from netra.auth.routes import routers
from netra.auth.schema import AUTH_SCHEMA
from netra.auth.signing import SigningKeyError
from netra.auth.state import AuthState, build_state
from netra.errors import DomainError
from netra.health import Check, CheckResult
from netra.runtime import Runtime

log = logging.getLogger("netra.auth")
KEY_RELOAD_INTERVAL = 30.0


class AuthComponent:
    """Requests reach its `AuthState` through the runtime (netra.auth.routes.deps), once
    the signing keys are loaded."""

    name = "auth"
    schema = AUTH_SCHEMA
    subprotocol = None  # no sockets

    def __init__(self) -> None:
        self._state: AuthState | None = None
        self._ready = False

    def routers(self) -> Sequence[APIRouter]:
        return routers()

    def checks(self, runtime: Runtime) -> Sequence[Check]:
        async def signing_key() -> CheckResult:
            if self._state is None or not self._ready or not self._state.keys.loaded():
                return CheckResult.fail("no signing key loaded yet (is the schema at head?)")
            key = self._state.keys.signer()
            published = len(self._state.keys.jwks()["keys"])
            return CheckResult.ok(
                f"signing with {key.algorithm} key {key.kid}; {published} key(s) published",
                key.kid,
            )

        return [Check("signing_key", signing_key), *self._oidc_checks(runtime)]

    def _oidc_checks(self, runtime: Runtime) -> list[Check]:
        """One readiness check per configured provider: its discovery document answers.
        Not required: a provider's outage warns, it does not take password sign-in,
        refresh, the JWKS and revocations out of rotation with it."""

        def probe(name: str) -> Check:
            async def discovery() -> CheckResult:
                if self._state is None:
                    return CheckResult.fail("the auth service is starting")
                provider = self._state.oidc.provider(name)
                try:
                    await provider.metadata()
                except DomainError as exc:
                    return CheckResult.fail(exc.message)
                return CheckResult.ok(f"{provider.config.issuer} discovery answers")

            return Check(f"oidc:{name}", discovery, required=False)

        return [probe(config.name) for config in parse_providers(runtime.settings)[0]]

    async def start(self, runtime: Runtime) -> None:
        state = build_state(runtime.settings, runtime.db, runtime.metrics)
        self._state = state
        # The embedded backend uses these very keys in-process (no HTTP to ourselves).
        runtime.verifier = state.verifier
        try:
            await self._load(runtime, state)
        except SigningKeyError as exc:  # cannot heal by waiting: refuse to start
            log.error("the auth service cannot use its signing keys: %s", exc)
            raise
        except (SQLAlchemyError, OSError) as exc:
            # Schema not migrated yet or database down: can heal; readiness says so.
            log.error(
                "auth keys not loaded yet (%s); retrying in the background",
                db.explain(runtime.engine.url, exc),
            )
            runtime.spawn(self._load_when_possible(runtime, state), "auth-keys")
        runtime.spawn(self._reload_forever(state), "auth-key-reload")

    async def _load(self, runtime: Runtime, state: AuthState) -> None:
        await state.keys.load()
        await state.services.sync()
        self._ready = True
        runtime.provide(AuthState, state)
        runtime_note = "in process" if state.settings.token_algorithm != "HS256" else "HS256"
        log.info("auth keys loaded (%s)", runtime_note)

    async def _load_when_possible(self, runtime: Runtime, state: AuthState) -> None:
        delay = 1.0
        while not self._ready:
            await asyncio.sleep(delay)
            try:
                await self._load(runtime, state)
            except (SQLAlchemyError, OSError) as exc:
                log.warning("auth keys still not loaded: %s", db.explain(runtime.engine.url, exc))
                delay = min(delay * 2, 15.0)
            except SigningKeyError as exc:
                log.warning("auth keys still not loaded: %s", exc)
                delay = min(delay * 2, 15.0)

    async def _reload_forever(self, state: AuthState) -> None:
        while True:
            await asyncio.sleep(KEY_RELOAD_INTERVAL)
            if self._ready:
                try:
                    await state.keys.load()
                except (SQLAlchemyError, OSError, SigningKeyError) as exc:
                    log.warning("cannot reload signing keys: %s", exc)

    async def drain(self) -> None:
        """Nothing outlives its request here."""

    async def stop(self) -> None:
        if self._state is not None:
            await self._state.close()
