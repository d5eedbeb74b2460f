"""One rollout engine for every target: preflight → migrations → the new revision with
no traffic → smoke its own URLs → shift traffic → smoke again → done. On any failure,
traffic stays on (or returns to) the previous revision, and the report names the step.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from rich.table import Table
from rich.text import Text

from netra.deploy.environments import DeployEnvironment
from netra.deploy.gate import SmokeGate, SmokeResult
from netra.deploy.preflight import PreflightReport
from netra.deploy.render import revision_id, wirings
from netra.deploy.runner import Runner
from netra.deploy.wiring import Wiring
from netra.settings import Service


@dataclass(frozen=True)
class Release:
    """What is being rolled out: a revision id and each service's wiring."""

    revision: str
    wired: dict[Service, Wiring]

    @classmethod
    def of(
        cls, env: DeployEnvironment, revision: str | None = None, digest: str | None = None
    ) -> Release:
        wired = wirings(env)
        return cls(revision or revision_id(env, wired, digest), {w.service: w for w in wired})


class Target(Protocol):
    """A place revisions run. Small: the engine decides, targets only act."""

    runner: Runner

    def live(self) -> str | None: ...

    def migrate(self, release: Release) -> None: ...

    def start(self, release: Release) -> dict[Service, str]:
        """Start the revision with no traffic, wait until it is ready; its own URLs."""
        ...

    def public_urls(self) -> dict[Service, str]: ...

    def shift(self, revision: str, *, retiring: bool = False) -> None:
        """All traffic to `revision`. With `retiring`, the revision losing it is retired
        next (a rollback after a failed shift), so nothing is done to keep it ready."""
        ...

    def retire(self, revision: str) -> None:
        """Stop a revision that serves no traffic (a failed candidate)."""
        ...

    def status(self) -> dict[str, Any]: ...


class StepFailed(Exception):
    pass


@dataclass
class Step:
    name: str
    ok: bool
    duration_ms: float
    detail: str = ""


@dataclass
class RolloutReport:
    environment: str
    revision: str
    previous: str | None
    steps: list[Step] = field(default_factory=list)
    live: str | None = None
    rolled_back: bool = False
    actions: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(step.ok for step in self.steps) and self.live == self.revision

    @property
    def failed_step(self) -> Step | None:
        return next((step for step in self.steps if not step.ok), None)

    def to_dict(self) -> dict[str, Any]:
        failed = self.failed_step
        return {
            "ok": self.ok,
            "environment": self.environment,
            "revision": self.revision,
            "previous": self.previous,
            "live": self.live,
            "rolled_back": self.rolled_back,
            "failed_step": failed.name if failed else None,
            "steps": [asdict(step) for step in self.steps],
            "actions": self.actions,
        }

    def table(self) -> Table:
        table = Table(title=f"Netra rollout: {self.environment} → {self.revision}")
        for column in ("step", "result", "seconds", "details"):
            table.add_column(column)
        for step in self.steps:
            result = Text("ok", "green") if step.ok else Text("FAILED", "bold red")
            table.add_row(step.name, result, f"{step.duration_ms / 1000:.2f}", step.detail)
        return table


def _smoke_detail(result: SmokeResult) -> str:
    failed = result.failed
    if failed is None:
        return ", ".join(step.name for step in result.steps) + " passed"
    raise StepFailed(f"smoke step '{failed.name}' failed: {failed.error}")


@dataclass
class Rollout:
    env: DeployEnvironment
    target: Target
    gate: SmokeGate
    preflight: Callable[[], PreflightReport]
    dry_run: bool = False

    def run(self, release: Release) -> RolloutReport:
        report = RolloutReport(self.env.name, release.revision, None)
        shifted = False
        try:
            # First, before the target is asked anything: a missing secret or image tag
            # is refused even where the target cannot be reached.
            self._step(report, "preflight", self._preflight)
        except StepFailed:
            report.actions = list(self.target.runner.log)
            return report
        previous = self.target.live()
        report.previous = report.live = previous
        if previous == release.revision:
            report.steps.append(Step("already live", True, 0.0, f"{previous} serves traffic"))
            report.actions = list(self.target.runner.log)
            return report
        try:
            self._step(report, "migrations", lambda: self._migrate(release))
            urls = self._step(
                report, "start revision (no traffic)", lambda: self.target.start(release)
            )
            self._step(report, "smoke new revision", lambda: self._smoke(urls))
            self._step(report, "shift traffic", lambda: self.target.shift(release.revision))
            shifted = True
            report.live = release.revision
            public = self.target.public_urls()
            self._step(report, "smoke after shift", lambda: self._smoke(public))
        except StepFailed:
            self._recover(report, release, previous, shifted)
        report.actions = list(self.target.runner.log)
        return report

    def _recover(
        self, report: RolloutReport, release: Release, previous: str | None, shifted: bool
    ) -> None:
        if shifted and previous is not None:
            self._step(
                report,
                f"roll back to {previous}",
                lambda: self.target.shift(previous, retiring=True),
                swallow=True,
            )
            report.rolled_back = True
            report.live = previous
        started = any(step.name.startswith("start revision") for step in report.steps)
        if started and report.live != release.revision:
            self._step(
                report,
                f"stop {release.revision}",
                lambda: self.target.retire(release.revision),
                swallow=True,
            )

    def _step(
        self, report: RolloutReport, name: str, action: Callable[[], Any], swallow: bool = False
    ) -> Any:
        started = time.perf_counter()
        try:
            result = action()
        except StepFailed as exc:
            report.steps.append(Step(name, False, _ms(started), str(exc)))
            if swallow:
                return None
            raise
        except Exception as exc:  # a target's error is this step's failure, with its words
            report.steps.append(Step(name, False, _ms(started), f"{type(exc).__name__}: {exc}"))
            if swallow:
                return None
            raise StepFailed(str(exc)) from exc
        detail = result if isinstance(result, str) else ""
        if isinstance(result, dict):
            detail = ", ".join(f"{k}: {v}" for k, v in result.items())
        report.steps.append(Step(name, True, _ms(started), detail))
        return result

    def _preflight(self) -> str:
        checked = self.preflight()
        for call in checked.planned_calls:
            self.target.runner.note(call)
        if not checked.ok:
            raise StepFailed(checked.summary())
        return checked.summary()

    def _migrate(self, release: Release) -> str:
        self.target.migrate(release)
        return "schema at head for " + ", ".join(s.value for s in release.wired)

    def _smoke(self, urls: dict[Service, str]) -> str:
        if self.dry_run:
            self.target.runner.note(f"$ {self.gate.describe(urls)}")
            return "dry run"
        return _smoke_detail(self.gate.check(urls))


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def rollback(
    env: DeployEnvironment, target: Target, to: str, gate: SmokeGate, dry_run: bool = False
) -> RolloutReport:
    """Traffic back to `to` (a revision still running), then smoke the public URLs."""
    engine = Rollout(env, target, gate, lambda: PreflightReport(env.name, ""), dry_run)
    report = RolloutReport(env.name, to, target.live(), live=target.live())
    try:
        engine._step(report, f"shift traffic to {to}", lambda: target.shift(to))
        report.live = to
        engine._step(report, "smoke after shift", lambda: engine._smoke(target.public_urls()))
    except StepFailed:
        pass
    report.actions = list(target.runner.log)
    return report
