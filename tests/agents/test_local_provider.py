"""The `local` provider's configuration errors (its real model runs in test_real_llm.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from netra.agents import LocalModelMissing, create_agent
from tests.support.apps import SettingsFactory


def test_a_missing_model_file_is_named(make_settings: SettingsFactory, tmp_path: Path) -> None:
    missing = tmp_path / "nope.gguf"
    settings = make_settings(AGENT_PROVIDER="local", LOCAL_MODEL_PATH=str(missing))
    with pytest.raises(LocalModelMissing, match=f"LOCAL_MODEL_PATH {missing} is not a file"):
        create_agent(settings)
