"""Catalog models as agents: the model named in `agent_started`, fallback when a model
fails before any output (and not after), history trimmed to the context window."""

from __future__ import annotations

from pathlib import Path

from netra.agents import (
    AgentCompleted,
    AgentError,
    AgentStarted,
    AgentThinking,
    ChatTurn,
    MessageDelta,
    RunContext,
    run_agent,
    started_event,
)
from netra.agents.catalog import ModelSet, build_models, load_catalog
from netra.settings import SecretLookup
from netra.testing import ScriptedModelServer, answer_chunks, chunk
from tests.support.agents import collect
from tests.support.apps import SettingsFactory


def catalog_file(tmp_path: Path, base_url: str, *, window: int = 8192) -> Path:
    path = tmp_path / "models.toml"
    path.write_text(
        f"""
[[models]]
id = "primary"
label = "Primary"
provider = "openai"
base_url = "{base_url}"
model = "served-name"
api_key_secret = "PRIMARY_KEY"
context_window = {window}
max_output_tokens = 100
fallback = "builtin"
default = true

[[models]]
id = "builtin"
label = "Builtin planner"
provider = "builtin"
capabilities = ["tools"]
""",
        encoding="utf-8",
    )
    return path


def models_for(make_settings: SettingsFactory, path: Path) -> ModelSet:
    settings = make_settings(MODELS_FILE=str(path), OPENAI_MAX_RETRIES="0")
    catalog = load_catalog(settings, SecretLookup({"PRIMARY_KEY": "sk-primary-secret"}))
    return build_models(settings, catalog=catalog)


async def test_a_model_that_fails_before_output_hands_over_to_its_fallback(
    make_settings: SettingsFactory,
    tmp_path: Path,
    scripted: ScriptedModelServer,
    context: RunContext,
) -> None:
    models = models_for(make_settings, catalog_file(tmp_path, scripted.base_url))
    scripted.script(scripted.status(401, '{"error": {"message": "bad key"}}'))
    agent = models.agent("primary")
    assert started_event(agent) == AgentStarted(provider="openai", model="primary")
    events = await collect(
        run_agent(agent, [], "what is 6 * 7?", context, timeout=10, announced=True)
    )
    started = [event for event in events if isinstance(event, AgentStarted)]
    # The first was recorded by the caller (announced); the fallback names itself.
    assert started == [AgentStarted(provider="builtin", model="builtin")]
    handover = next(e for e in events if isinstance(e, AgentThinking))
    assert "Primary failed before answering" in handover.text
    assert "answering with Builtin planner instead" in handover.text
    assert "sk-primary-secret" not in handover.text
    assert isinstance(events[-1], AgentCompleted)
    assert "42" in events[-1].text
    assert scripted.requests[0]["model"] == "served-name"
    assert scripted.requests[0]["max_tokens"] == 100


async def test_a_model_that_failed_after_output_does_not_fall_back(
    make_settings: SettingsFactory,
    tmp_path: Path,
    scripted: ScriptedModelServer,
    context: RunContext,
) -> None:
    models = models_for(make_settings, catalog_file(tmp_path, scripted.base_url))
    scripted.script(scripted.sse([chunk("partial answer")], cut=True))
    events = await collect(run_agent(models.agent("primary"), [], "hi", context, timeout=10))
    assert [e.model for e in events if isinstance(e, AgentStarted)] == ["primary"]
    assert [e.text for e in events if isinstance(e, MessageDelta)] == ["partial answer"]
    assert isinstance(events[-1], AgentError)
    assert events[-1].code == "provider_error"


async def test_the_last_model_of_a_chain_reports_its_own_error(
    make_settings: SettingsFactory,
    tmp_path: Path,
    scripted: ScriptedModelServer,
    context: RunContext,
) -> None:
    path = tmp_path / "models.toml"
    path.write_text(
        f'[[models]]\nid = "only"\nprovider = "openai"\nbase_url = "{scripted.base_url}"\n',
        encoding="utf-8",
    )
    settings = make_settings(MODELS_FILE=str(path), OPENAI_MAX_RETRIES="0")
    scripted.script(scripted.status(500, "{}"))
    events = await collect(run_agent(build_models(settings).default, [], "hi", context, timeout=10))
    assert isinstance(events[-1], AgentError)
    assert "500" in events[-1].reason


async def test_history_beyond_the_context_window_is_trimmed_oldest_first(
    make_settings: SettingsFactory,
    tmp_path: Path,
    scripted: ScriptedModelServer,
    context: RunContext,
) -> None:
    models = models_for(make_settings, catalog_file(tmp_path, scripted.base_url, window=400))
    history = [
        ChatTurn("user" if index % 2 == 0 else "assistant", f"turn {index} " + "word " * 60)
        for index in range(10)
    ]
    scripted.script(scripted.sse(answer_chunks("ok")))
    events = await collect(
        run_agent(models.agent("primary"), history, "newest", context, timeout=10)
    )
    assert isinstance(events[-1], AgentCompleted)
    sent = scripted.requests[0]["messages"]
    assert sent[0]["role"] == "system"
    assert sent[-1] == {"role": "user", "content": "newest"}
    kept = [message["content"] for message in sent[1:-1]]
    assert kept, "the newest turns that fit are kept"
    assert kept == [turn.content for turn in history[-len(kept) :]]
    dropped = len(history) - len(kept)
    note = next(e for e in events if isinstance(e, AgentThinking))
    assert note.text == (
        f"Left out the {dropped} oldest turns of this thread to fit Primary's context "
        "window of 400 tokens."
    )


async def test_history_that_fits_is_sent_whole_and_nothing_is_said(
    make_settings: SettingsFactory,
    tmp_path: Path,
    scripted: ScriptedModelServer,
    context: RunContext,
) -> None:
    models = models_for(make_settings, catalog_file(tmp_path, scripted.base_url))
    history = [ChatTurn("user", "earlier"), ChatTurn("assistant", "reply")]
    scripted.script(scripted.sse(answer_chunks("ok")))
    events = await collect(run_agent(models.agent("primary"), history, "now", context, timeout=10))
    assert not [e for e in events if isinstance(e, AgentThinking)]
    assert len(scripted.requests[0]["messages"]) == 4
