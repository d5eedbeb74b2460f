from netra.embedded import create_app
from tests.conftest import SettingsFactory, running


async def test_embedded_app_boots_and_is_ready(
    make_settings: SettingsFactory, database_env: dict[str, str]
) -> None:
    async with running(create_app(make_settings(**database_env))) as client:
        assert (await client.get("/health")).json() == {"status": "pass"}
        ready = await client.get("/health/ready")
        assert ready.status_code == 200, ready.text
        assert {"database", "schema:auth", "schema:chat", "bus"} <= set(ready.json()["checks"])
