"""Cloud Run: the service YAML `gcloud run services replace` takes, and the migration job
`gcloud run jobs replace` takes."""

from __future__ import annotations

from typing import Any

from netra.deploy.environments import DeployEnvironment
from netra.deploy.render import (
    PORT,
    Manifest,
    command,
    env_list,
    migrate_command,
    probes,
    revision_id,
    service_name,
    wirings,
)
from netra.deploy.wiring import Wiring, for_migration
from netra.settings import Service

CLOUDSQL = "run.googleapis.com/cloudsql-instances"


def _template_annotations(env: DeployEnvironment) -> dict[str, str]:
    annotations = {}
    if env.database.cloud_sql_instance:
        annotations[CLOUDSQL] = env.database.cloud_sql_instance
    return annotations


def _labels(env: DeployEnvironment, service: Service | None = None) -> dict[str, str]:
    labels = {"cloud.googleapis.com/location": str(env.region), "app": "netra"}
    if service is not None:
        labels["netra-service"] = service.value
    return labels


def service_manifest(
    env: DeployEnvironment,
    wired: Wiring,
    revision: str,
    traffic: list[dict[str, Any]] | None = None,
) -> Manifest:
    plan = env.plan(wired.service)
    name = service_name(wired.service)
    annotations = {
        **_template_annotations(env),
        "autoscaling.knative.dev/minScale": str(plan.min_instances),
        "autoscaling.knative.dev/maxScale": str(plan.max_instances),
        "run.googleapis.com/startup-cpu-boost": "true",
    }
    spec: dict[str, Any] = {
        "containerConcurrency": 80,
        "timeoutSeconds": 3600,
        "containers": [
            {
                "image": env.image,
                "command": command(wired.service)[:1],
                "args": command(wired.service)[1:],
                "ports": [{"name": "http1", "containerPort": PORT}],
                "env": env_list(wired),
                "resources": {"limits": {"cpu": plan.cpu, "memory": plan.memory}},
                **probes(PORT),
            }
        ],
    }
    if env.service_account:
        spec["serviceAccountName"] = env.service_account
    return {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": {
            "name": name,
            "labels": _labels(env, wired.service),
            "annotations": {"run.googleapis.com/ingress": "all"},
        },
        "spec": {
            "template": {
                "metadata": {
                    "name": f"{name}-{revision}",
                    "labels": {"netra-revision": revision},
                    "annotations": annotations,
                },
                "spec": spec,
            },
            "traffic": traffic or [{"percent": 100, "latestRevision": True}],
        },
    }


def migration_job(env: DeployEnvironment, wired: Wiring, revision: str) -> Manifest:
    """The release step: `netra migrate` for one service, with that service's database
    settings and nothing else."""
    spec: dict[str, Any] = {
        "maxRetries": 0,
        "timeoutSeconds": "600",
        "containers": [
            {
                "image": env.image,
                "command": migrate_command(wired.service)[:1],
                "args": migrate_command(wired.service)[1:],
                "env": env_list(for_migration(env.name, wired)),
            }
        ],
    }
    if env.service_account:
        spec["serviceAccountName"] = env.service_account
    return {
        "apiVersion": "run.googleapis.com/v1",
        "kind": "Job",
        "metadata": {
            "name": f"{service_name(wired.service)}-migrate",
            "labels": {**_labels(env, wired.service), "netra-revision": revision},
        },
        "spec": {
            "template": {
                "metadata": {"annotations": _template_annotations(env)},
                "spec": {"taskCount": 1, "template": {"spec": spec}},
            }
        },
    }


def render(
    env: DeployEnvironment, service: Service | None = None, revision: str | None = None
) -> list[Manifest]:
    """Migration jobs, then services, for one service or both."""
    wired = wirings(env, service)
    rev = revision or revision_id(env, wirings(env))
    return [migration_job(env, w, rev) for w in wired] + [
        service_manifest(env, w, rev) for w in wired
    ]
