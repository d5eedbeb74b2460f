"""Commands a target runs, or, with `--dry-run`, only prints: one place for both."""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


class CommandFailed(Exception):
    def __init__(self, argv: Sequence[str], code: int, output: str) -> None:
        tail = output.strip().splitlines()[-5:]
        super().__init__(f"`{shlex.join(argv)}` exited {code}: {' / '.join(tail)}")


@dataclass
class Runner:
    """Runs commands (`dry_run=False`) or records them. `log` keeps what was (or would
    have been) done, in order, for the report."""

    dry_run: bool = False
    log: list[str] = field(default_factory=list)

    def note(self, action: str) -> None:
        """An API call or file change the target makes itself."""
        self.log.append(action)

    def run(
        self,
        argv: Sequence[str],
        *,
        stdin: str | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float = 600.0,
        dry_result: str = "",
    ) -> str:
        shown = shlex.join(argv) + (" <<manifest>>" if stdin else "")
        self.log.append(f"$ {shown}")
        if self.dry_run:
            return dry_result
        done = subprocess.run(  # noqa: S603 (argv lists built by the targets)
            list(argv),
            input=stdin,
            env=dict(env) if env is not None else None,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise CommandFailed(argv, done.returncode, done.stderr or done.stdout)
        return done.stdout
