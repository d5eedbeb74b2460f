"""Liveness, readiness and the golden-path checks components register."""

from netra.health.checks import Check, CheckResult, CheckStatus, HealthRegistry, Readiness

__all__ = ["Check", "CheckResult", "CheckStatus", "HealthRegistry", "Readiness"]
