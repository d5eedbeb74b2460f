"""Kubernetes through `kubectl`: a second Deployment per revision with its own Service
(the smoke test's URL), and the stable Service's selector as the traffic switch."""

from __future__ import annotations

import json
from typing import Any

from netra.deploy.environments import DeployEnvironment
from netra.deploy.render import kubernetes, service_name, to_yaml
from netra.deploy.rollout import Release
from netra.deploy.runner import Runner
from netra.settings import Service


class KubernetesTarget:
    def __init__(self, env: DeployEnvironment, runner: Runner) -> None:
        self.env = env
        self.runner = runner

    def _kubectl(self, *args: str, stdin: str | None = None, dry: str = "") -> str:
        context = ["--context", self.env.kube_context] if self.env.kube_context else []
        argv = ["kubectl", *context, "--namespace", self.env.namespace, *args]
        return self.runner.run(argv, stdin=stdin, dry_result=dry)

    def live(self) -> str | None:
        out = self._kubectl(
            "get",
            "service",
            service_name(Service.BACKEND),
            "--ignore-not-found",
            "-o",
            "json",
            dry="{}",
        )
        selector = json.loads(out or "{}").get("spec", {}).get("selector", {})
        live = selector.get(kubernetes.REVISION_LABEL)
        return str(live) if live else None

    def migrate(self, release: Release) -> None:
        for wired in release.wired.values():
            job = kubernetes.migration_job(self.env, wired, release.revision)
            self._kubectl("apply", "-f", "-", stdin=to_yaml([job]))
            self._kubectl(
                "wait",
                "--for=condition=complete",
                "--timeout=600s",
                f"job/{job['metadata']['name']}",
            )

    def start(self, release: Release) -> dict[Service, str]:
        urls = {}
        for service, wired in release.wired.items():
            manifests = [
                kubernetes.deployment(self.env, wired, release.revision),
                kubernetes.service(self.env, service, release.revision, stable=False),
            ]
            self._kubectl("apply", "-f", "-", stdin=to_yaml(manifests))
            name = f"{service_name(service)}-{release.revision}"
            self._kubectl("rollout", "status", f"deployment/{name}", "--timeout=300s")
            urls[service] = f"http://{name}.{self.env.namespace}.svc.cluster.local"
        return urls

    def public_urls(self) -> dict[Service, str]:
        return {s: str(self.env.plan(s).url).rstrip("/") for s in Service}

    def shift(self, revision: str, *, retiring: bool = False) -> None:
        for service in Service:
            stable = kubernetes.service(self.env, service, revision, stable=True)
            self._kubectl("apply", "-f", "-", stdin=to_yaml([stable]))

    def retire(self, revision: str) -> None:
        for service in Service:
            name = f"{service_name(service)}-{revision}"
            self._kubectl("delete", f"deployment/{name}", f"service/{name}", "--ignore-not-found")

    def status(self) -> dict[str, Any]:
        out = self._kubectl(
            "get", "deployments", "-l", "app.kubernetes.io/name=netra", "-o", "json", dry="{}"
        )
        items = json.loads(out or "{}").get("items", [])
        return {
            "live": self.live(),
            "deployments": {
                item["metadata"]["name"]: item.get("status", {}).get("readyReplicas", 0)
                for item in items
            },
        }
