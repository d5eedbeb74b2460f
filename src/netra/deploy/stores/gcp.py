"""GCP Secret Manager through the official client (`pip install 'netra[deploy]'`)."""

from __future__ import annotations

from typing import Any

from netra.deploy.stores import SecretStore, SecretStoreError, VersionState
from netra.deploy.wiring import SecretRef


class GcpSecretStore(SecretStore):
    def __init__(self, project: str, client: Any = None) -> None:
        self.project = project
        self.label = f"Secret Manager of project {project}"
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            try:
                from google.cloud import secretmanager  # noqa: PLC0415 (optional extra)
            except ImportError as exc:
                raise SecretStoreError(
                    "google-cloud-secret-manager is not installed: uv sync --extra deploy"
                ) from exc
            self._client = secretmanager.SecretManagerServiceClient()
        return self._client

    def _version(self, ref: SecretRef) -> str:
        return f"projects/{self.project}/secrets/{ref.secret}/versions/{ref.version}"

    def names(self) -> list[str]:
        listed = self.client.list_secrets(request={"parent": f"projects/{self.project}"})
        return sorted(secret.name.rsplit("/", 1)[-1] for secret in listed)

    def state(self, ref: SecretRef) -> tuple[VersionState, str]:
        from google.api_core import exceptions  # noqa: PLC0415

        try:
            version = self.client.get_secret_version(request={"name": self._version(ref)})
        except exceptions.NotFound:
            try:
                self.client.get_secret(
                    request={"name": f"projects/{self.project}/secrets/{ref.secret}"}
                )
            except exceptions.NotFound:
                return VersionState.MISSING_SECRET, ""
            return VersionState.NO_ENABLED_VERSION, f"version {ref.version} does not exist"
        except exceptions.GoogleAPICallError as exc:
            raise SecretStoreError(f"{self.label}: {exc.message}") from exc
        state = getattr(version.state, "name", str(version.state))
        if state != "ENABLED":
            return VersionState.NO_ENABLED_VERSION, f"version {ref.version} is {state.lower()}"
        return VersionState.ENABLED, ""

    def read(self, ref: SecretRef) -> str:
        answer = self.client.access_secret_version(request={"name": self._version(ref)})
        return str(answer.payload.data.decode("utf-8"))

    def planned_calls(self, ref: SecretRef) -> list[str]:
        name = self._version(ref)
        return [
            f"secretmanager.get_secret_version(name={name})",
            f"secretmanager.access_secret_version(name={name})",
        ]
