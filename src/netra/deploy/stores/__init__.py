"""Secret stores behind one small interface: does a secret exist with a usable version,
which names exist (for near-namesake suggestions), and its value (to validate only)."""

from __future__ import annotations

import difflib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from netra.deploy.environments import DeployEnvironment, TargetKind
from netra.deploy.wiring import SecretRef


class SecretStoreError(Exception):
    """The store itself cannot be asked (credentials, network, permissions)."""


class VersionState(StrEnum):
    ENABLED = "enabled"
    MISSING_SECRET = "missing secret"
    NO_ENABLED_VERSION = "no enabled version"


@dataclass(frozen=True)
class SecretLookup:
    ref: SecretRef
    state: VersionState
    detail: str = ""
    suggestions: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.state is VersionState.ENABLED

    def sentence(self, store: str) -> str:
        if self.ok:
            return f"{self.ref.display} exists in {store} with an enabled version"
        if self.state is VersionState.MISSING_SECRET:
            text = f"{self.ref.secret} not found in {store}"
            if self.suggestions:
                text += f"; did you mean {self.suggestions[0]}?"
                if len(self.suggestions) > 1:
                    text += f" (near-namesakes there: {', '.join(self.suggestions)})"
            return text
        return f"{self.ref.display}: {self.detail or self.state.value} in {store}"


class SecretStore(ABC):
    """One environment's secret store."""

    label: str

    @abstractmethod
    def names(self) -> list[str]:
        """Every secret name in the store."""

    @abstractmethod
    def state(self, ref: SecretRef) -> tuple[VersionState, str]:
        """Whether `ref` names an existing secret with an enabled version (and why not)."""

    @abstractmethod
    def read(self, ref: SecretRef) -> str:
        """The value, only to validate the configuration it completes; never print it."""

    @abstractmethod
    def planned_calls(self, ref: SecretRef) -> list[str]:
        """The API calls `state` and `read` make, for `--dry-run`."""

    def lookup(self, ref: SecretRef, environment: str = "") -> SecretLookup:
        state, detail = self.state(ref)
        suggestions: tuple[str, ...] = ()
        if state is VersionState.MISSING_SECRET:
            suggestions = tuple(near_namesakes(ref.secret, self.names(), environment))
        return SecretLookup(ref, state, detail, suggestions)


def near_namesakes(wanted: str, existing: list[str], environment: str = "") -> list[str]:
    """Names close to `wanted`, the likeliest first: the same name qualified by the
    environment (`jwt-secret-key-staging`), then other qualified forms, then look-alikes."""

    def words(name: str) -> set[str]:
        return set(name.replace("_", "-").lower().split("-"))

    core = words(wanted)
    qualified = [n for n in existing if core <= words(n) and n != wanted]
    qualified.sort(key=lambda n: (environment.lower() not in words(n), len(n), n))
    similar = difflib.get_close_matches(wanted, existing, n=6, cutoff=0.6)
    overlapping = sorted(
        (n for n in existing if len(core & words(n)) >= max(1, len(core) - 1)),
        key=lambda n: -difflib.SequenceMatcher(None, wanted, n).ratio(),
    )
    ranked: list[str] = []
    for name in qualified + similar + overlapping:
        if name not in ranked and name != wanted:
            ranked.append(name)
    return ranked[:6]


def store_for(env: DeployEnvironment) -> SecretStore:
    """The store an environment's secrets live in."""
    from netra.deploy.stores.gcp import GcpSecretStore  # noqa: PLC0415
    from netra.deploy.stores.kubernetes import KubernetesSecretStore  # noqa: PLC0415
    from netra.deploy.stores.local import LocalSecretStore  # noqa: PLC0415

    if env.target is TargetKind.CLOUDRUN:
        return GcpSecretStore(str(env.project))
    if env.target is TargetKind.KUBERNETES:
        return KubernetesSecretStore(env.namespace, env.kube_context)
    return LocalSecretStore(Path(str(env.secrets_dir)))
