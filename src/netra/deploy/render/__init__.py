"""Manifests rendered from the environments file and the configuration contract."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import yaml

from netra.deploy.environments import DeployEnvironment
from netra.deploy.wiring import Wiring, wire
from netra.settings import Service

PORT = 8080
Manifest = dict[str, Any]


def service_name(service: Service) -> str:
    return f"netra-{service.value}"


def env_list(wired: Wiring) -> list[dict[str, Any]]:
    """A container's environment: plain values, then references to secrets (both Cloud
    Run and Kubernetes take this shape)."""
    plain: list[dict[str, Any]] = [{"name": k, "value": v} for k, v in wired.values.items()]
    refs = [
        {
            "name": ref.env_name,
            "valueFrom": {"secretKeyRef": {"name": ref.secret, "key": ref.version}},
        }
        for ref in wired.secrets
    ]
    return plain + refs


def wirings(env: DeployEnvironment, service: Service | None = None) -> list[Wiring]:
    """Validated wiring of one service, or both (auth first)."""
    return [wire(env, s) for s in ([service] if service else list(Service))]


def revision_id(env: DeployEnvironment, wired: list[Wiring], digest: str | None = None) -> str:
    """A short content hash: the same image and configuration give the same revision.
    With the image's digest, a tag pushed again (new content) is a new revision."""
    material = {
        "image": env.image,
        **({"digest": digest} if digest else {}),
        "wiring": [
            {"values": w.values, "secrets": [ref.__dict__ for ref in w.secrets]} for w in wired
        ],
    }
    digest = hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()
    return f"r{digest[:8]}"


def command(service: Service) -> list[str]:
    return ["netra", "serve", service.value, "--host", "0.0.0.0", "--port", str(PORT)]  # noqa: S104


def migrate_command(service: Service) -> list[str]:
    return ["netra", "migrate", "--service", service.value]


def probes(port: int | str = PORT) -> dict[str, Manifest]:
    """Startup waits for readiness (schema at head, keys loaded); liveness only asks the
    process to answer, so a database outage does not restart every instance."""
    return {
        "startupProbe": {
            "httpGet": {"path": "/health/ready", "port": port},
            "periodSeconds": 2,
            "timeoutSeconds": 2,
            "failureThreshold": 90,
        },
        "livenessProbe": {
            "httpGet": {"path": "/health", "port": port},
            "periodSeconds": 10,
            "timeoutSeconds": 3,
            "failureThreshold": 3,
        },
    }


def to_yaml(manifests: list[Manifest]) -> str:
    return yaml.safe_dump_all(manifests, sort_keys=False, default_flow_style=False, width=100)
