"""The auth service's HTTP routes, one module per resource."""

from fastapi import APIRouter

from netra.auth.routes import (
    account,
    activity,
    admin,
    admin_security,
    api_keys,
    email,
    mfa,
    oidc,
    passkeys,
    recovery,
    service,
    sessions,
    wellknown,
)
from netra.auth.routes.deps import Guards, StateGetter


def routers(state: StateGetter) -> list[APIRouter]:
    guards = Guards(state)
    modules = (
        account,
        email,
        mfa,
        passkeys,
        recovery,
        sessions,
        api_keys,
        admin,
        admin_security,
        activity,
        service,
        wellknown,
        oidc,
    )
    return [module.router(guards) for module in modules]
