"""Kubernetes: a Deployment per revision, a per-revision Service (for smoke tests) and the
stable Service whose selector is the traffic switch, a migration Job per service."""

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

REVISION_LABEL = "netra.dev/revision"
CLOUD_SQL_PROXY = "gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.14.1"


def _labels(service: Service, revision: str | None = None) -> dict[str, str]:
    labels = {"app.kubernetes.io/name": "netra", "app.kubernetes.io/component": service.value}
    if revision:
        labels[REVISION_LABEL] = revision
    return labels


def _security() -> dict[str, Any]:
    return {
        "runAsNonRoot": True,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }


def _cloud_sql(env: DeployEnvironment) -> tuple[list[Manifest], list[Manifest], list[Manifest]]:
    """The Cloud SQL proxy sidecar and its socket volume: Kubernetes' equivalent of Cloud
    Run's cloudsql-instances annotation. (sidecars, volumes, mounts)"""
    instance = env.database.cloud_sql_instance
    if not instance:
        return [], [], []
    mount = {"name": "cloudsql", "mountPath": "/cloudsql"}
    proxy = {
        "name": "cloud-sql-proxy",
        "image": CLOUD_SQL_PROXY,
        "args": ["--unix-socket=/cloudsql", "--structured-logs", instance],
        "restartPolicy": "Always",
        "volumeMounts": [mount],
        "securityContext": _security(),
    }
    return [proxy], [{"name": "cloudsql", "emptyDir": {}}], [mount]


def _pod_spec(env: DeployEnvironment, wired: Wiring, args: list[str], serve: bool) -> Manifest:
    plan = env.plan(wired.service)
    sidecars, volumes, mounts = _cloud_sql(env)
    container: dict[str, Any] = {
        "name": wired.service.value,
        "image": env.image,
        "command": args[:1],
        "args": args[1:],
        "env": [*env_list(wired), {"name": "DATA_DIR", "value": "/tmp/netra"}],  # noqa: S108
        "resources": {
            "requests": {"cpu": plan.cpu, "memory": plan.memory},
            "limits": {"memory": plan.memory},
        },
        "securityContext": _security(),
        "volumeMounts": [*mounts, {"name": "tmp", "mountPath": "/tmp"}],  # noqa: S108
    }
    if serve:
        container["ports"] = [{"name": "http", "containerPort": PORT}]
        container.update(probes("http"))
        container["readinessProbe"] = {
            "httpGet": {"path": "/health/ready", "port": "http"},
            "periodSeconds": 5,
            "timeoutSeconds": 3,
        }
    spec: dict[str, Any] = {
        "containers": [container],
        "volumes": [*volumes, {"name": "tmp", "emptyDir": {}}],
    }
    if sidecars:
        spec["initContainers"] = sidecars
    if env.service_account:
        spec["serviceAccountName"] = env.service_account
    return spec


def deployment(env: DeployEnvironment, wired: Wiring, revision: str) -> Manifest:
    labels = _labels(wired.service, revision)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": f"{service_name(wired.service)}-{revision}",
            "namespace": env.namespace,
            "labels": labels,
        },
        "spec": {
            "replicas": env.plan(wired.service).min_instances,
            "selector": {"matchLabels": labels},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    **_pod_spec(env, wired, command(wired.service), serve=True),
                    "terminationGracePeriodSeconds": 30,
                },
            },
        },
    }


def service(env: DeployEnvironment, svc: Service, revision: str, *, stable: bool) -> Manifest:
    """`stable`: the Service clients use, pointed at `revision` (the traffic switch).
    Otherwise the revision's own Service, which smoke tests reach before any traffic."""
    name = service_name(svc) if stable else f"{service_name(svc)}-{revision}"
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": env.namespace, "labels": _labels(svc)},
        "spec": {
            "selector": _labels(svc, revision),
            "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
        },
    }


def migration_job(env: DeployEnvironment, wired: Wiring, revision: str) -> Manifest:
    labels = _labels(wired.service, revision)
    migration = for_migration(env.name, wired)
    pod = _pod_spec(env, migration, migrate_command(wired.service), serve=False)
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": f"{service_name(wired.service)}-migrate-{revision}",
            "namespace": env.namespace,
            "labels": labels,
        },
        "spec": {
            "backoffLimit": 0,
            "activeDeadlineSeconds": 600,
            "ttlSecondsAfterFinished": 86400,
            "template": {
                "metadata": {"labels": labels},
                "spec": {**pod, "restartPolicy": "Never"},
            },
        },
    }


def render(
    env: DeployEnvironment, svc: Service | None = None, revision: str | None = None
) -> list[Manifest]:
    """Migration Jobs, Deployments and Services for one service or both."""
    wired = wirings(env, svc)
    rev = revision or revision_id(env, wirings(env))
    manifests = [migration_job(env, w, rev) for w in wired]
    for w in wired:
        manifests += [
            deployment(env, w, rev),
            service(env, w.service, rev, stable=False),
            service(env, w.service, rev, stable=True),
        ]
    return manifests
