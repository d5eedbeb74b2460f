"""The local target: revisions are `netra serve` processes on their own 127.0.0.1 ports,
behind an nginx whose upstreams move traffic. Real, and a way to self-host on one box."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from netra.deploy.environments import DeployEnvironment
from netra.deploy.gate import netra_command, readiness
from netra.deploy.rollout import Release, StepFailed
from netra.deploy.runner import Runner
from netra.deploy.stores.local import LocalSecretStore
from netra.deploy.targets import processes
from netra.deploy.targets.nginx import Nginx
from netra.deploy.wiring import SecretRef, for_migration
from netra.settings import Service
from netra.testing import free_port, wait_until

READY_TIMEOUT = 60.0


class LocalTarget:
    def __init__(self, env: DeployEnvironment, runner: Runner) -> None:
        self.env = env
        self.runner = runner
        self.root = Path(str(env.state_dir))
        self.store = LocalSecretStore(Path(str(env.secrets_dir)))
        listen = {s: str(urlsplit(str(env.plan(s).url)).netloc) for s in Service}
        self.nginx = Nginx(self.root / "nginx", listen, runner)

    # --- state ---------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        try:
            state: dict[str, Any] = json.loads((self.root / "state.json").read_text())
        except (OSError, ValueError):
            state = {}
        state.setdefault("revisions", {})
        return state

    def _save(self, state: dict[str, Any]) -> None:
        if self.runner.dry_run:
            return
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / "state.json.tmp"
        tmp.write_text(json.dumps(state, indent=2))
        tmp.replace(self.root / "state.json")

    def live(self) -> str | None:
        live: str | None = self._state().get("live")
        return live

    def previous(self) -> str | None:
        previous: str | None = self._state().get("previous")
        return previous

    # --- what a revision's processes get -------------------------------------------
    def _environ(
        self, release: Release, service: Service, ports: dict[Service, int] | None = None
    ) -> dict[str, str]:
        """Built from the contract's wiring; secrets as files, never in the environment.
        A revision is a pair: its backend reaches its own auth service directly, so a
        candidate is whole (and smoke-testable) before nginx sends it anything."""
        revision_dir = self.root / "revisions" / release.revision
        values = dict(release.wired[service].values)
        derived = self.env.plan(Service.AUTH).reach_url
        if ports and Service.AUTH in ports and values.get("AUTH_SERVICE_URL") == derived:
            values["AUTH_SERVICE_URL"] = f"http://127.0.0.1:{ports[Service.AUTH]}"
        return {
            **values,
            "SECRETS_DIR": str(revision_dir / "secrets" / service.value),
            "DATA_DIR": str(revision_dir / "data"),
        }

    def _write_secrets(self, release: Release) -> None:
        for service, wired in release.wired.items():
            self._write(self._secrets_dir(release, service.value), wired.secrets)

    def _secrets_dir(self, release: Release, name: str) -> Path:
        return self.root / "revisions" / release.revision / "secrets" / name

    def _write(self, directory: Path, refs: list[SecretRef]) -> None:
        self.runner.note(f"write {directory}/{{{','.join(r.env_name for r in refs)}}}")
        if self.runner.dry_run:
            return
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        for ref in refs:
            path = directory / ref.env_name
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(self.store.read(ref))

    # --- the steps -----------------------------------------------------------------
    def migrate(self, release: Release) -> None:
        """Each service's `netra migrate` with its database settings and secrets only."""
        self._write_secrets(release)
        for service, wired in release.wired.items():
            migration = for_migration(self.env.name, wired)
            directory = self._secrets_dir(release, f"{service.value}-migrate")
            self._write(directory, migration.secrets)
            data = self.root / "revisions" / release.revision / "data"
            self.runner.run(
                [*netra_command(), "migrate", "--service", service.value],
                env={**migration.values, "SECRETS_DIR": str(directory), "DATA_DIR": str(data)},
            )

    def start(self, release: Release) -> dict[Service, str]:
        state = self._state()
        if release.revision in state["revisions"]:
            self.retire(release.revision)
            state = self._state()
        ports = {service: free_port() for service in release.wired}
        procs: dict[str, dict[str, Any]] = {}
        revision_dir = self.root / "revisions" / release.revision
        for service, port in ports.items():
            argv = [
                *netra_command(),
                "serve",
                service.value,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ]
            self.runner.note(f"spawn {' '.join(argv)} (log {revision_dir / service.value}.log)")
            if self.runner.dry_run:
                continue
            revision_dir.mkdir(parents=True, exist_ok=True)
            # Kept to restart it (see _hand_over); settings only, secrets stay in files.
            environ = self._environ(release, service, ports)
            pid = processes.spawn(argv, environ, revision_dir / f"{service.value}.log")
            procs[service.value] = {"pid": pid, "port": port, "argv": argv, "env": environ}
        state["revisions"][release.revision] = procs
        self._save(state)
        urls = {service: f"http://127.0.0.1:{port}" for service, port in ports.items()}
        if not self.runner.dry_run:
            self._wait_ready(release.revision, urls)
        return urls

    def _wait_ready(self, revision: str, urls: dict[Service, str]) -> None:
        processes_of = self._state()["revisions"][revision]
        detail = "not ready"

        def ready() -> bool | None:
            nonlocal detail
            for service in urls:
                if not processes.alive(processes_of[service.value]["pid"]):
                    log = self.root / "revisions" / revision / f"{service.value}.log"
                    tail = " / ".join(log.read_text(errors="replace").strip().splitlines()[-4:])
                    raise StepFailed(f"{service.value} exited during startup: {tail} ({log})")
            result = readiness(urls, timeout=2.0)
            failed = result.failed
            detail = f"{failed.name}: {failed.error}" if failed else "not ready"
            return True if result.ok else None

        try:
            wait_until(ready, READY_TIMEOUT, "not ready", interval=0.1)
        except TimeoutError:
            raise StepFailed(f"not ready after {READY_TIMEOUT:g}s: {detail}") from None

    def public_urls(self) -> dict[Service, str]:
        return {s: str(self.env.plan(s).url).rstrip("/") for s in Service}

    def shift(self, revision: str, *, retiring: bool = False) -> None:
        """nginx to `revision` (once it is ready: a rollback may find its backend just
        restarted), then the sockets of the revision it leaves handed over, unless that
        revision is `retiring`: stopping it closes them with 1012 just the same."""
        state = self._state()
        procs = state["revisions"].get(revision)
        if procs is None and not self.runner.dry_run:
            raise StepFailed(f"revision {revision} is not running; see `netra deploy status`")
        ports = {s: int((procs or {}).get(s.value, {}).get("port", 0)) for s in Service}
        if not self.runner.dry_run:
            self._wait_ready(revision, {s: f"http://127.0.0.1:{p}" for s, p in ports.items()})
        self.nginx.point_at(ports)
        leaving = state.get("live")
        if leaving != revision:
            state["previous"], state["live"] = leaving, revision
        self._save(state)
        self._retire_stale(state)
        if leaving is not None and leaving != revision and not retiring:
            self._hand_over(leaving)

    def _hand_over(self, revision: str) -> None:
        """A reload leaves open WebSockets on nginx's old worker, still on `revision`,
        which would then miss the runs the live revision starts (the bus is in-process).
        Restarting its backend closes them with 1012 once its runs have finished
        (netra.serving), and they reconnect to the live revision and resume. The fresh
        process takes no traffic: the revision stays ready for an instant rollback."""
        procs = self._state()["revisions"].get(revision, {})
        proc = procs.get(Service.BACKEND.value)
        if proc is None:
            return
        if "argv" not in proc:  # started by a netra before hand-overs: it cannot restart it
            self.runner.note(f"revision {revision} keeps its WebSockets: restart it to move them")
            return
        self.runner.note(
            f"restart pid {proc['pid']} (revision {revision}, no traffic): "
            "its WebSockets reconnect to the live revision"
        )
        if self.runner.dry_run:
            return
        processes.stop(int(proc["pid"]))
        log = self.root / "revisions" / revision / f"{Service.BACKEND.value}.log"
        pid = processes.spawn(proc["argv"], proc["env"], log)
        state = self._state()
        state["revisions"][revision][Service.BACKEND.value]["pid"] = pid
        self._save(state)

    def _retire_stale(self, state: dict[str, Any]) -> None:
        """Keep the live revision and one previous (instant rollback); stop the rest."""
        keep = {state.get("live"), state.get("previous")}
        for revision in [r for r in state["revisions"] if r not in keep]:
            self.retire(revision)

    def retire(self, revision: str) -> None:
        state = self._state()
        for proc in state["revisions"].get(revision, {}).values():
            self.runner.note(f"stop pid {proc['pid']} (revision {revision})")
            if not self.runner.dry_run:
                processes.stop(int(proc["pid"]))
        state["revisions"].pop(revision, None)
        if state.get("previous") == revision:
            state["previous"] = None
        self._save(state)

    def down(self) -> None:
        """Stop nginx and every revision of this environment."""
        self.nginx.stop()
        for revision in list(self._state()["revisions"]):
            self.retire(revision)
        state = self._state()
        state["live"] = state["previous"] = None
        self._save(state)

    def status(self) -> dict[str, Any]:
        state = self._state()
        revisions = {}
        for revision, procs in state["revisions"].items():
            urls = {Service(s): f"http://127.0.0.1:{p['port']}" for s, p in procs.items()}
            health = readiness(urls, timeout=2.0) if urls else None
            revisions[revision] = {
                "traffic": 100 if revision == state.get("live") else 0,
                "processes": {
                    s: {"pid": p["pid"], "port": p["port"], "alive": processes.alive(int(p["pid"]))}
                    for s, p in procs.items()
                },
                "ready": health.ok if health else False,
            }
        return {
            "live": state.get("live"),
            "previous": state.get("previous"),
            "nginx": "running" if self.nginx.running() else "stopped",
            "public": {s.value: u for s, u in self.public_urls().items()},
            "revisions": revisions,
        }
