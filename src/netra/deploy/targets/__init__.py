"""Target adapters: where revisions run and how traffic moves (`cloudrun`, `kubernetes`,
`local`). Each is small; the rollout engine in `netra.deploy.rollout` decides."""

from __future__ import annotations

from netra.deploy.environments import DeployEnvironment, TargetKind
from netra.deploy.rollout import Target
from netra.deploy.runner import Runner


def target_for(env: DeployEnvironment, runner: Runner) -> Target:
    from netra.deploy.targets.cloudrun import CloudRunTarget  # noqa: PLC0415
    from netra.deploy.targets.kubernetes import KubernetesTarget  # noqa: PLC0415
    from netra.deploy.targets.local import LocalTarget  # noqa: PLC0415

    if env.target is TargetKind.CLOUDRUN:
        return CloudRunTarget(env, runner)
    if env.target is TargetKind.KUBERNETES:
        return KubernetesTarget(env, runner)
    return LocalTarget(env, runner)
