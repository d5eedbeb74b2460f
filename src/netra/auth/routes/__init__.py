"""The auth service's HTTP routes, one module per resource."""

from fastapi import APIRouter

from netra.auth.routes import account, admin, api_keys, service, sessions, wellknown
from netra.auth.routes.deps import Guards, StateGetter


def routers(state: StateGetter) -> list[APIRouter]:
    guards = Guards(state)
    modules = (account, sessions, api_keys, admin, service, wellknown)
    return [module.router(guards) for module in modules]
