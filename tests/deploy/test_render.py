"""Manifests of the sample environments: golden files, the official Kubernetes schemas,
and the properties that keep I-3 and I-4 from happening again."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from netra.deploy.environments import load, parse
from netra.deploy.render import cloudrun, kubernetes, to_yaml
from netra.deploy.wiring import WiringError, wire
from netra.settings import Service
from netra.settings.resolver import contract
from tests.support.deploy import SAMPLE

GOLDEN = Path(__file__).with_name("golden")
KUBERNETES_VERSION = "1.30"


def rendered(name: str) -> str:
    env = load(SAMPLE)[name]
    renderer = {"staging": cloudrun.render, "production": kubernetes.render}[name]
    return to_yaml(renderer(env))


@pytest.mark.parametrize(
    ("environment", "golden"),
    [("staging", "staging-cloudrun.yaml"), ("production", "production-kubernetes.yaml")],
)
def test_sample_manifests_match_golden_files(environment: str, golden: str) -> None:
    text = rendered(environment)
    path = GOLDEN / golden
    if os.environ.get("NETRA_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"run NETRA_UPDATE_GOLDEN=1 pytest {__file__} and review"


def test_kubernetes_manifests_validate_against_the_official_schemas() -> None:
    manifests = list(yaml.safe_load_all(rendered("production")))
    assert {m["kind"] for m in manifests} == {"Job", "Deployment", "Service"}
    for manifest in manifests:
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)


def test_kubernetes_with_cloud_sql_validates_too() -> None:
    raw = tomllib.loads(SAMPLE.read_text())
    raw["environments"]["production"]["database"] = {"cloud_sql_instance": "p:r:i"}
    del raw["environments"]["production"]["settings"]["DB_HOST"]
    env = parse(raw, SAMPLE)["production"]
    for manifest in kubernetes.render(env):
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
        if manifest["kind"] == "Deployment":
            pod = manifest["spec"]["template"]["spec"]
            assert pod["initContainers"][0]["args"][-1] == "p:r:i"


def _env_of(manifest: dict[str, Any]) -> dict[str, Any]:
    spec = manifest["spec"]["template"]["spec"]
    container = (spec.get("template", {}).get("spec") or spec)["containers"][0]
    return {item["name"]: item.get("value", item.get("valueFrom")) for item in container["env"]}


def test_cloud_run_service_has_annotation_probes_and_secret_refs() -> None:
    env = load(SAMPLE)["staging"]
    manifests = cloudrun.render(env)
    services = [m for m in manifests if m["kind"] == "Service"]
    jobs = [m for m in manifests if m["kind"] == "Job"]
    assert [j["metadata"]["name"] for j in jobs] == ["netra-auth-migrate", "netra-backend-migrate"]
    for manifest in services + jobs:
        annotations = manifest["spec"]["template"]["metadata"]["annotations"]
        assert annotations[cloudrun.CLOUDSQL] == env.database.cloud_sql_instance
    backend = next(s for s in services if s["metadata"]["name"] == "netra-backend")
    container = backend["spec"]["template"]["spec"]["containers"][0]
    assert container["startupProbe"]["httpGet"]["path"] == "/health/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    wired = _env_of(backend)
    assert wired["AUTH_SERVICE_URL"] == "https://auth.staging.netra.example.com"
    assert wired["SERVICE_SECRET"] == {
        "secretKeyRef": {"name": "service-secret-staging", "key": "latest"}
    }
    assert "KEY_ENCRYPTION_KEY" not in wired  # the contract gives it to auth only


@pytest.mark.parametrize("name", ["staging", "production"])
def test_every_required_setting_reaches_its_service(name: str) -> None:
    """I-3: whatever the contract requires of a service in that environment is wired."""
    env = load(SAMPLE)[name]
    for service in Service:
        wired = wire(env, service)
        given = set(wired.values) | {ref.env_name for ref in wired.secrets}
        for field, _, spec in contract():
            if service in spec.services and env.environment in spec.required_in:
                assert set(spec.lookup_names(field, env.environment)) & given, field


def test_both_services_get_the_same_names_for_shared_settings() -> None:
    """I-4: one name per setting, whichever service reads it."""
    env = load(SAMPLE)["staging"]
    auth, backend = wire(env, Service.AUTH), wire(env, Service.BACKEND)
    auth_refs = {ref.env_name: ref.secret for ref in auth.secrets}
    backend_refs = {ref.env_name: ref.secret for ref in backend.secrets}
    shared = set(auth_refs) & set(backend_refs)
    assert {"SERVICE_SECRET", "DB_PASSWORD"} <= shared
    assert all(auth_refs[n] == backend_refs[n] for n in shared)


def test_a_required_secret_left_out_refuses_to_render() -> None:
    """I-3 replayed: SERVICE_SECRET not wired for staging is an error naming it."""
    raw = tomllib.loads(SAMPLE.read_text())
    del raw["environments"]["staging"]["secrets"]["SERVICE_SECRET"]
    env = parse(raw, SAMPLE)["staging"]
    with pytest.raises(WiringError) as caught:
        cloudrun.render(env)
    assert "SERVICE_SECRET: required by auth in staging" in str(caught.value)
    assert "deploy/environments.toml" in str(caught.value)


def test_revision_id_is_a_content_hash() -> None:
    env = load(SAMPLE)["production"]
    first = kubernetes.render(env)[0]["metadata"]["labels"][kubernetes.REVISION_LABEL]
    again = kubernetes.render(env)[0]["metadata"]["labels"][kubernetes.REVISION_LABEL]
    changed = env.model_copy(update={"image": "registry.example.com/netra/netra:0.1.1"})
    other = kubernetes.render(changed)[0]["metadata"]["labels"][kubernetes.REVISION_LABEL]
    assert first == again != other
