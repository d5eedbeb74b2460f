"""The one configuration contract both services import (see docs/configuration.md)."""

from netra.settings.contract import Settings
from netra.settings.report import ConfigReport, ConfigurationError, Problem, Status
from netra.settings.resolver import (
    Check,
    SecretLookup,
    client_settings,
    load_settings,
    resolve,
)
from netra.settings.spec import Environment, Reader, Role, Service

__all__ = [
    "Check",
    "ConfigReport",
    "ConfigurationError",
    "Environment",
    "Problem",
    "Reader",
    "Role",
    "SecretLookup",
    "Service",
    "Settings",
    "Status",
    "client_settings",
    "load_settings",
    "resolve",
]
