"""Does the image exist in its registry? The OCI distribution API's manifest HEAD, with
the token dance registries ask for, and the credentials `podman login` / `docker login`
keep. A rollout of a tag that was never pushed is refused at preflight (not half-way,
when the first instance cannot pull it)."""

from __future__ import annotations

import base64
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import httpx

from netra.settings.process import tool_environment

MANIFESTS = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)
DOCKER_HUB = "registry-1.docker.io"
LOOPBACK = ("localhost", "127.0.0.1", "[::1]")


class RegistryError(Exception):
    """The registry could not say (unreachable, refused our credentials, ...)."""


class ImageMissing(RegistryError):
    """The registry answered: no such repository or tag."""


@dataclass(frozen=True)
class ImageRef:
    registry: str
    repository: str
    reference: str  # a tag, or a digest (sha256:...)

    @classmethod
    def parse(cls, image: str) -> ImageRef:
        name, reference = image, "latest"
        if "@" in name:
            name, reference = name.split("@", 1)
        elif ":" in name.rsplit("/", 1)[-1]:
            name, reference = name.rsplit(":", 1)
        first, _, rest = name.partition("/")
        if rest and ("." in first or ":" in first or first == "localhost"):
            return cls(first, rest, reference)
        repository = name if "/" in name else f"library/{name}"
        return cls(DOCKER_HUB, repository, reference)

    @property
    def base_url(self) -> str:
        # Registries on this machine speak plain HTTP, as docker and podman assume too.
        host = self.registry.rsplit(":", 1)[0] if ":" in self.registry else self.registry
        scheme = "http" if host in LOOPBACK else "https"
        return f"{scheme}://{self.registry}"

    @property
    def manifest_url(self) -> str:
        return f"{self.base_url}/v2/{self.repository}/manifests/{self.reference}"


def _auth_files() -> list[Path]:
    """Where podman (REGISTRY_AUTH_FILE, then its runtime dir) and docker keep logins."""
    tools = tool_environment()
    runtime = Path(tools.get("XDG_RUNTIME_DIR", f"/run/user/{os.getuid()}"))
    files = [Path(name) for name in [tools.get("REGISTRY_AUTH_FILE", "")] if name]
    return [*files, runtime / "containers" / "auth.json", Path.home() / ".docker" / "config.json"]


def credentials(registry: str) -> tuple[str, str] | None:
    """(user, password) for `registry` from the login files, if any."""
    for path in _auth_files():
        try:
            auths = json.loads(path.read_text()).get("auths", {})
        except (OSError, ValueError):
            continue
        for key in (registry, f"https://{registry}", f"http://{registry}"):
            encoded = auths.get(key, {}).get("auth")
            if encoded:
                user, _, password = base64.b64decode(encoded).decode().partition(":")
                return user, password
    return None


def _challenge(header: str) -> tuple[str, dict[str, str]]:
    scheme, _, rest = header.partition(" ")
    return scheme.lower(), dict(re.findall(r'(\w+)="([^"]*)"', rest))


def manifest_digest(image: str, *, timeout: float = 10.0) -> str:
    """The digest of `image`'s manifest in its registry; ImageMissing when it has none."""
    ref = ImageRef.parse(image)
    login = credentials(ref.registry)
    headers = {"Accept": MANIFESTS}
    try:
        with httpx.Client(timeout=timeout) as client:
            answer = client.head(ref.manifest_url, headers=headers)
            if answer.status_code == 401:
                scheme, params = _challenge(answer.headers.get("www-authenticate", ""))
                if scheme == "bearer" and "realm" in params:
                    query = {k: v for k, v in params.items() if k in ("service", "scope")}
                    query.setdefault("scope", f"repository:{ref.repository}:pull")
                    token = client.get(params["realm"], params=query, auth=login)
                    if token.status_code != 200:
                        raise RegistryError(f"{ref.registry} refused a pull token")
                    body = token.json()
                    headers["Authorization"] = f"Bearer {body.get('token') or body['access_token']}"
                    answer = client.head(ref.manifest_url, headers=headers)
                elif scheme == "basic" and login is not None:
                    answer = client.head(ref.manifest_url, headers=headers, auth=login)
    except httpx.HTTPError as exc:
        raise RegistryError(f"cannot reach {ref.registry}: {type(exc).__name__}") from None
    if answer.status_code == 404:
        raise ImageMissing(f"{image} is not in {ref.registry}")
    if answer.status_code in (401, 403):
        raise RegistryError(
            f"{ref.registry} answered {answer.status_code} for {ref.repository}: log in "
            "(`podman login` / `docker login`) as someone who may pull it"
        )
    if answer.status_code != 200:
        raise RegistryError(f"{ref.registry} answered {answer.status_code} for {image}")
    digest: str | None = answer.headers.get("docker-content-digest")
    if not digest:
        raise RegistryError(f"{ref.registry} named no digest for {image}")
    return digest
