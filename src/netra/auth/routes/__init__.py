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


def routers() -> list[APIRouter]:
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
    return [module.router() for module in modules]
