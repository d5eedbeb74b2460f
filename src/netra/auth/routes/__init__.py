"""The auth service's HTTP routes, one module per resource."""

from fastapi import APIRouter

from netra.auth.routes import account, admin, api_keys, oidc, service, sessions, wellknown


def routers() -> list[APIRouter]:
    modules = (account, sessions, api_keys, admin, service, wellknown, oidc)
    return [module.router() for module in modules]
