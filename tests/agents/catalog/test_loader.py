"""MODELS_FILE is validated like settings: every problem at once, each naming its key;
secrets are read by setting name from the settings' own sources."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from netra.agents.catalog import CatalogError, ModelNotAllowed, load_catalog
from netra.settings import SecretLookup, Service
from tests.support.apps import SettingsFactory

GOOD = """
[[models]]
id = "qwen"
label = "Qwen 2.5 7B"
provider = "openai"
base_url = "http://127.0.0.1:8080/v1"
model = "qwen2.5-7b-instruct"
api_key_secret = "QWEN_API_KEY"
context_window = 32768
max_output_tokens = 2048
capabilities = ["tools"]
price_in = 0.15
price_out = 0.60
roles = ["user", "admin"]
fallback = "builtin"
default = true

[[models]]
id = "builtin"
provider = "builtin"

[[models]]
id = "big"
provider = "openai"
base_url = "http://127.0.0.1:8081/v1"
roles = ["admin"]

[[mcp_servers]]
name = "everything"
transport = "stdio"
command = "npx"
args = ["-y", "@modelcontextprotocol/server-everything"]
tools = ["echo", "get-sum"]
requires_approval = ["echo"]
timeout = 30

[[assistants]]
id = "helper"
name = "Helper"
instructions = "You are concise."
model = "qwen"
tools = ["calculator", "everything__get-sum"]
starters = ["What is 2 + 2?"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "models.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(exc: pytest.ExceptionInfo[CatalogError]) -> dict[str, str]:
    return {problem.setting: problem.message for problem in exc.value.problems}


def test_the_contract_example_loads_with_its_secret_from_the_secrets_dir(
    make_settings: SettingsFactory, tmp_path: Path
) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "QWEN_API_KEY").write_text("sk-qwen\n")
    settings = make_settings(MODELS_FILE=str(write(tmp_path, GOOD)))
    lookup = SecretLookup({"ENVIRONMENT": "test", "SECRETS_DIR": str(secrets)}, cwd=tmp_path)
    catalog = load_catalog(settings, lookup)
    assert [entry.id for entry in catalog.models] == ["qwen", "builtin", "big"]
    assert catalog.default.id == "qwen"
    assert catalog.secret("QWEN_API_KEY") == "sk-qwen"
    assert [entry.id for entry in catalog.chain("qwen")] == ["qwen", "builtin"]
    assert [entry.id for entry in catalog.usable({"user"})] == ["qwen", "builtin"]
    assert [entry.id for entry in catalog.usable({"user", "admin"})] == ["qwen", "builtin", "big"]
    assert catalog.choose(None, {"user"}).id == "qwen"
    assert catalog.choose("big", {"admin"}).id == "big"
    assert catalog.mcp_servers[0].needs_approval("echo")
    assert not catalog.mcp_servers[0].needs_approval("get-sum")
    assert catalog.assistants[0].tools == ("calculator", "everything__get-sum")
    assert "sk-qwen" not in repr(catalog)


@pytest.mark.parametrize("model_id", ["big", "nope", "../etc", ""])
def test_a_model_the_caller_may_not_use_is_refused(
    make_settings: SettingsFactory, tmp_path: Path, model_id: str
) -> None:
    settings = make_settings(MODELS_FILE=str(write(tmp_path, GOOD)))
    catalog = load_catalog(settings, SecretLookup({"QWEN_API_KEY": "k"}))
    with pytest.raises(ModelNotAllowed) as refused:
        catalog.choose(model_id, {"user"})
    assert refused.value.reason == "model_not_allowed"


BAD = """
[[models]]
id = "a"
provider = "openai"
fallback = "b"
api_key_secret = "NOT_SET_ANYWHERE"

[[models]]
id = "b"
provider = "openai"
fallback = "a"

[[models]]
id = "a"
provider = "anthropic"

[[models]]
id = "c"
provider = "builtin"
fallback = "ghost"

[[models]]
id = "d"
provider = "builtin"
context_window = "big"

[[mcp_servers]]
name = "bad__name"
transport = "stdio"

[[mcp_servers]]
name = "web"
transport = "streamable_http"
header_secrets = { Authorization = "WEB_TOKEN" }

[[assistants]]
id = "x"
name = "X"
model = "missing"
tools = ["nowhere__tool"]

[extras]
"""


def test_every_problem_is_reported_at_once_each_naming_its_key(
    make_settings: SettingsFactory, tmp_path: Path
) -> None:
    settings = make_settings(MODELS_FILE=str(write(tmp_path, BAD)))
    with pytest.raises(CatalogError) as exc:
        load_catalog(settings, SecretLookup({"ENVIRONMENT": "test"}, cwd=tmp_path))
    found = problems(exc)
    assert found["MODELS_FILE models[0].fallback"] == "falls back in a loop: a -> b -> a"
    assert found["MODELS_FILE models[1].fallback"] == "falls back in a loop: b -> a -> b"
    assert "'openai', 'local' or 'builtin'" in found["MODELS_FILE models[2].provider"]
    assert "'ghost' is not a model" in found["MODELS_FILE models[3].fallback"]
    assert "integer" in found["MODELS_FILE models[4].context_window"]
    assert "'__'" in found["MODELS_FILE mcp_servers[0].name"]
    assert found["MODELS_FILE mcp_servers[1].url"] == "streamable_http needs a url"
    assert found["MODELS_FILE models[0].api_key_secret"] == "the secret NOT_SET_ANYWHERE is not set"
    assert (
        found["MODELS_FILE mcp_servers[1].header_secrets.Authorization"]
        == "the secret WEB_TOKEN is not set"
    )
    assert "'missing' is not a model" in found["MODELS_FILE assistants[0].model"]
    assert "'nowhere'" in found["MODELS_FILE assistants[0].tools"]
    assert "unknown section" in found["MODELS_FILE extras"]
    secret = next(p for p in exc.value.problems if p.setting.endswith("api_key_secret"))
    assert "$NOT_SET_ANYWHERE" in secret.looked


ASSISTANTS = """
[[models]]
id = "m"
provider = "builtin"

[[mcp_servers]]
name = "files"
transport = "stdio"
command = "npx"
tools = ["read_file"]

[[assistants]]
id = "builtin"
name = "Impostor"

[[assistants]]
id = "a1"
name = "Unknown model"
model = "gpt-9"

[[assistants]]
id = "a2"
name = "Unknown built-in tool"
tools = ["shell"]

[[assistants]]
id = "a3"
name = "A tool the server does not expose"
tools = ["files__write_file"]

[[assistants]]
id = "a4"
name = ""
instructions = "fine"
"""


def test_an_assistant_naming_an_unknown_model_or_tool_is_a_config_error(
    make_settings: SettingsFactory, tmp_path: Path
) -> None:
    settings = make_settings(MODELS_FILE=str(write(tmp_path, ASSISTANTS)))
    with pytest.raises(CatalogError) as exc:
        load_catalog(settings)
    assert problems(exc) == {
        "MODELS_FILE assistants[0].id": ("'builtin' is the builtin assistant's id; choose another"),
        "MODELS_FILE assistants[1].model": "'gpt-9' is not a model of this file; known: m",
        "MODELS_FILE assistants[2].tools": (
            "'shell' is not a built-in tool (calculator, current_time, search_messages, "
            "summarize_thread) nor server__tool"
        ),
        "MODELS_FILE assistants[3].tools": (
            "'files__write_file': the MCP server 'files' does not expose 'write_file'"
        ),
        "MODELS_FILE assistants[4].name": "String should have at least 1 character",
    }


def test_a_duplicate_id_is_named(make_settings: SettingsFactory, tmp_path: Path) -> None:
    text = (
        '[[models]]\nid = "m"\nprovider = "builtin"\n\n[[models]]\nid = "m"\nprovider = "builtin"\n'
    )
    settings = make_settings(MODELS_FILE=str(write(tmp_path, text)))
    with pytest.raises(CatalogError) as exc:
        load_catalog(settings)
    assert problems(exc) == {"MODELS_FILE models[1].id": "'m' is declared twice"}


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ("models = [", "MODELS_FILE", "is not valid TOML"),
        ("", "MODELS_FILE models", "declares no model"),
        ("models = 3", "MODELS_FILE models", "array of tables"),
        (
            '[[models]]\nid = "m"\nprovider = "builtin"\nsecret_key = "sk-1"\n',
            "MODELS_FILE models[0].secret_key",
            "Extra inputs are not permitted",
        ),
    ],
)
def test_unusable_files(
    make_settings: SettingsFactory, tmp_path: Path, text: str, key: str, words: str
) -> None:
    settings = make_settings(MODELS_FILE=str(write(tmp_path, text)))
    with pytest.raises(CatalogError) as exc:
        load_catalog(settings)
    assert words in problems(exc)[key]
    assert "sk-1" not in str(exc.value)


def test_a_missing_file_is_one_problem(make_settings: SettingsFactory, tmp_path: Path) -> None:
    settings = make_settings(MODELS_FILE=str(tmp_path / "absent.toml"))
    with pytest.raises(CatalogError) as exc:
        load_catalog(settings)
    assert "cannot read" in problems(exc)["MODELS_FILE"]


def test_startup_refuses_a_bad_catalog_with_the_settings_report(tmp_path: Path) -> None:
    from netra.cli import load_settings

    path = write(tmp_path, BAD)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ENVIRONMENT", "test")
        patch.setenv("DATA_DIR", str(tmp_path / "data"))
        patch.setenv("MODELS_FILE", str(path))
        with pytest.raises(typer.Exit) as refused:
            load_settings([Service.BACKEND])
    assert refused.value.exit_code == 2


def test_the_auth_service_does_not_read_the_models_file(
    make_settings: SettingsFactory, tmp_path: Path
) -> None:
    from netra.cli import checks_for

    assert all("catalog" not in check.__name__ for check in checks_for([Service.AUTH]))
    assert any("catalog" in check.__name__ for check in checks_for([Service.BACKEND]))


def test_todays_settings_are_a_one_model_catalog(make_settings: SettingsFactory) -> None:
    builtin = load_catalog(make_settings())
    assert [(m.id, m.provider) for m in builtin.models] == [("builtin", "builtin")]
    openai = load_catalog(
        make_settings(
            AGENT_PROVIDER="openai",
            OPENAI_BASE_URL="http://127.0.0.1:9/v1",
            OPENAI_MODEL="qwen2.5-7b",
            OPENAI_API_KEY="sk-legacy",
        )
    )
    entry = openai.default
    assert (entry.id, entry.model, entry.api_key_secret) == (
        "qwen2.5-7b",
        "qwen2.5-7b",
        "OPENAI_API_KEY",
    )
    assert openai.secret("OPENAI_API_KEY") == "sk-legacy"
    odd = load_catalog(
        make_settings(
            AGENT_PROVIDER="openai",
            OPENAI_BASE_URL="http://127.0.0.1:9/v1",
            OPENAI_MODEL="org/m:7b",
        )
    )
    assert (odd.default.id, odd.default.model) == ("openai", "org/m:7b")
