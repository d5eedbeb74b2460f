"""Kubernetes Secrets through the official client (`pip install 'netra[deploy]'`).
A reference `name:key` is the key `key` inside the Secret `name`."""

from __future__ import annotations

import base64
from typing import Any

from netra.deploy.stores import SecretStore, SecretStoreError, VersionState
from netra.deploy.wiring import SecretRef


class KubernetesSecretStore(SecretStore):
    def __init__(self, namespace: str, context: str | None = None, api: Any = None) -> None:
        self.namespace = namespace
        self.context = context
        self.label = f"Kubernetes Secrets of namespace {namespace}"
        self._api = api

    @property
    def api(self) -> Any:
        if self._api is None:
            try:
                from kubernetes import client, config  # noqa: PLC0415 (optional extra)
            except ImportError as exc:
                raise SecretStoreError(
                    "kubernetes is not installed: uv sync --extra deploy"
                ) from exc
            try:
                config.load_kube_config(context=self.context)  # type: ignore[no-untyped-call]
            except config.ConfigException:
                try:
                    config.load_incluster_config()  # type: ignore[no-untyped-call]
                except config.ConfigException as exc:
                    # A preflight names it as a finding instead of a traceback.
                    raise SecretStoreError(
                        f"{self.label}: no cluster to ask (no kubeconfig, not in a pod): {exc}"
                    ) from exc
            self._api = client.CoreV1Api()
        return self._api

    def _data(self, name: str) -> dict[str, str] | None:
        from kubernetes.client.exceptions import ApiException  # noqa: PLC0415

        try:
            secret = self.api.read_namespaced_secret(name, self.namespace)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise SecretStoreError(f"{self.label}: {exc.status} {exc.reason}") from exc
        return dict(secret.data or {})

    def names(self) -> list[str]:
        listed = self.api.list_namespaced_secret(self.namespace)
        return sorted(item.metadata.name for item in listed.items)

    def state(self, ref: SecretRef) -> tuple[VersionState, str]:
        data = self._data(ref.secret)
        if data is None:
            return VersionState.MISSING_SECRET, ""
        if ref.version not in data:
            keys = ", ".join(sorted(data)) or "none"
            return VersionState.NO_ENABLED_VERSION, f"has no key {ref.version} (keys: {keys})"
        return VersionState.ENABLED, ""

    def read(self, ref: SecretRef) -> str:
        data = self._data(ref.secret) or {}
        return base64.b64decode(data[ref.version]).decode("utf-8")

    def planned_calls(self, ref: SecretRef) -> list[str]:
        return [f"CoreV1Api.read_namespaced_secret(name={ref.secret}, namespace={self.namespace})"]
