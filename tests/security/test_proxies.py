"""Issue 15 item 7: proxies and addresses.

Hostile cases: an IPv6 client rotating through the addresses of its own /64 (main
counted each address apart, so a /64 was 2^64 fresh budgets); an IPv4 client hiding as
an IPv4-mapped IPv6 address; a deploy whose target puts a proxy in front and trusts none
(every client then shares the proxy's address in the limits)."""

from __future__ import annotations

from pathlib import Path

import pytest

from netra.auth.signin_limits import address_bucket
from netra.deploy.environments import DeployEnvironment, load_environment
from netra.deploy.preflight import preflight
from netra.deploy.wiring import wire
from netra.settings import Service
from tests.support.auth import AuthClientFactory
from tests.support.deploy import SAMPLE


@pytest.mark.parametrize(
    ("address", "bucket"),
    [
        pytest.param("2001:db8:1:2::1", "2001:db8:1:2::/64", id="ipv6"),
        pytest.param("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64", id="ipv6-same-64"),
        pytest.param("2001:db8:1:3::1", "2001:db8:1:3::/64", id="ipv6-next-64"),
        pytest.param("::ffff:198.51.100.7", "198.51.100.7", id="ipv4-mapped"),
        pytest.param("198.51.100.7", "198.51.100.7", id="ipv4"),
        pytest.param("unknown", "unknown", id="not-an-address"),
    ],
)
def test_per_address_limits_count_ipv6_clients_by_their_64(address: str, bucket: str) -> None:
    assert address_bucket(address) == bucket


async def test_rotating_addresses_within_a_64_does_not_dodge_the_limit(
    auth_service: AuthClientFactory, sqlite_env: dict[str, str]
) -> None:
    env = {"TRUSTED_PROXIES": "127.0.0.1", "LOGIN_LIMIT_PER_IP": "3", **sqlite_env}
    body = {"email": "nobody@example.com", "password": "wrong password!"}
    async with auth_service(**env) as client:
        statuses = []
        for host in range(1, 6):
            forwarded = {"X-Forwarded-For": f"2001:db8:1:2::{host:x}"}
            statuses.append(
                (await client.post("/auth/login", json=body, headers=forwarded)).status_code
            )
        assert statuses == [401, 401, 401, 429, 429]
        elsewhere = {"X-Forwarded-For": "2001:db8:1:3::1"}
        assert (await client.post("/auth/login", json=body, headers=elsewhere)).status_code == 401
        mapped = {"X-Forwarded-For": "::ffff:198.51.100.7"}
        plain = {"X-Forwarded-For": "198.51.100.7"}
        answers = [
            (await client.post("/auth/login", json=body, headers=h)).status_code
            for h in (mapped, plain, mapped, plain)
        ]
        assert answers == [401, 401, 401, 429]


def test_the_local_target_trusts_its_own_nginx(local_env_file: DeployEnvironment) -> None:
    assert wire(local_env_file, Service.AUTH).values["TRUSTED_PROXIES"] == "127.0.0.1"


@pytest.fixture
def local_env_file() -> DeployEnvironment:
    return load_environment("local", SAMPLE)


@pytest.mark.parametrize("name", ["staging", "production"])
def test_preflight_warns_of_a_proxy_without_trusted_proxies(name: str) -> None:
    env = load_environment(name, SAMPLE)
    report = preflight(env, dry_run=True)
    [warning] = report.warnings
    assert warning.subject == "TRUSTED_PROXIES"
    assert "in front of the services" in warning.message
    assert f"environments.{name}.services.auth.settings" in warning.message
    assert "warning: proxies TRUSTED_PROXIES" in report.summary()


def test_preflight_is_quiet_once_proxies_are_trusted(tmp_path: Path) -> None:
    text = SAMPLE.read_text().replace(
        "[environments.staging.services.auth]\n",
        '[environments.staging.services.auth]\nsettings = { TRUSTED_PROXIES = "169.254.0.0/16" }\n',
    )
    path = tmp_path / "environments.toml"
    path.write_text(text)
    report = preflight(load_environment("staging", path), dry_run=True)
    assert report.warnings == []
    assert any(f.subject == "TRUSTED_PROXIES" and f.ok for f in report.findings)
