"""Cloud Run through `gcloud`: the new revision deployed tagged with 0% traffic, smoked
at its tag URL, then `update-traffic` moves traffic (and moves it back)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from netra.deploy.environments import DeployEnvironment
from netra.deploy.render import cloudrun, service_name, to_yaml
from netra.deploy.rollout import Release
from netra.deploy.runner import Runner
from netra.settings import Service


class CloudRunTarget:
    def __init__(self, env: DeployEnvironment, runner: Runner) -> None:
        self.env = env
        self.runner = runner
        self.workdir = Path(tempfile.gettempdir()) / f"netra-deploy-{env.name}"

    def _where(self) -> list[str]:
        return ["--region", str(self.env.region), "--project", str(self.env.project)]

    def _describe(self, service: Service) -> dict[str, Any]:
        out = self.runner.run(
            [
                "gcloud",
                "run",
                "services",
                "describe",
                service_name(service),
                *self._where(),
                "--format",
                "json",
            ],
            dry_result="{}",
        )
        described: dict[str, Any] = json.loads(out or "{}")
        return described

    def _file(self, name: str, manifest: dict[str, Any]) -> str:
        path = self.workdir / f"{name}.yaml"
        if not self.runner.dry_run:
            self.workdir.mkdir(parents=True, exist_ok=True)
            path.write_text(to_yaml([manifest]))
        return str(path)

    def live(self) -> str | None:
        traffic = self._describe(Service.BACKEND).get("status", {}).get("traffic", [])
        for entry in traffic:
            if entry.get("percent") == 100 and entry.get("revisionName"):
                return str(entry["revisionName"]).rsplit("-", 1)[-1]
        return None

    def migrate(self, release: Release) -> None:
        for wired in release.wired.values():
            job = cloudrun.migration_job(self.env, wired, release.revision)
            name = job["metadata"]["name"]
            self.runner.run(
                ["gcloud", "run", "jobs", "replace", self._file(name, job), *self._where()]
            )
            self.runner.run(["gcloud", "run", "jobs", "execute", name, "--wait", *self._where()])

    def start(self, release: Release) -> dict[Service, str]:
        previous = self.live()
        urls = {}
        for service, wired in release.wired.items():
            name = service_name(service)
            tag = f"candidate-{release.revision}"
            traffic: list[dict[str, Any]] = [
                {"revisionName": f"{name}-{release.revision}", "tag": tag, "percent": 0}
            ]
            if previous:
                traffic.insert(0, {"revisionName": f"{name}-{previous}", "percent": 100})
            else:  # first deploy: nothing to keep traffic on
                traffic[0]["percent"] = 100
            manifest = cloudrun.service_manifest(self.env, wired, release.revision, traffic)
            self.runner.run(
                ["gcloud", "run", "services", "replace", self._file(name, manifest), *self._where()]
            )
            described = self._describe(service).get("status", {}).get("traffic", [])
            url = next((t.get("url") for t in described if t.get("tag") == tag), None)
            urls[service] = url or f"https://{tag}---{name}.run.app"
        return urls

    def public_urls(self) -> dict[Service, str]:
        return {s: str(self.env.plan(s).url).rstrip("/") for s in Service}

    def shift(self, revision: str, *, retiring: bool = False) -> None:
        for service in Service:  # auth first: a new backend may need the new auth
            name = service_name(service)
            self.runner.run(
                [
                    "gcloud",
                    "run",
                    "services",
                    "update-traffic",
                    name,
                    "--to-revisions",
                    f"{name}-{revision}=100",
                    *self._where(),
                ]
            )

    def retire(self, revision: str) -> None:
        for service in Service:
            self.runner.run(
                [
                    "gcloud",
                    "run",
                    "services",
                    "update-traffic",
                    service_name(service),
                    "--remove-tags",
                    f"candidate-{revision}",
                    *self._where(),
                ]
            )

    def status(self) -> dict[str, Any]:
        return {
            service.value: self._describe(service).get("status", {}).get("traffic", [])
            for service in Service
        }
