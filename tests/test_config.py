"""Settings: environment, flags on top, and errors that name the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.config import FLAT, Settings, load_settings
from rag.errors import ConfigError


def test_every_field_is_described() -> None:
    groups = [info.default_factory for info in Settings.model_fields.values()]
    fields = [f for group in groups for f in group.model_fields.values()]  # type: ignore[union-attr]
    assert len(fields) == len(FLAT) == 79
    assert all(field.description for field in fields)


def test_environment_then_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_SEARCH_K", "7")
    monkeypatch.setenv("RAG_INDEX_DIR", "/tmp/from-env")
    settings = load_settings(index_dir=Path("/tmp/from-flag"), search_mode=None)
    assert settings.search.k == 7
    assert settings.index.dir == Path("/tmp/from-flag")
    assert settings.search.mode == "hybrid"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"search_mode": "fuzzy"}, "search_mode"),
        ({"chunk_min_words": 500}, "chunk_min_words <= chunk_target_words"),
        ({"chunk_overlap_words": 200}, "chunk_overlap_words must be smaller"),
        ({"max_file_mb": 0}, "max_file_mb"),
        ({"unknown_knob": 1}, "unknown_knob"),
    ],
)
def test_bad_settings_name_the_problem(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(**overrides)


def test_bad_environment_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_SEARCH_K", "many")
    with pytest.raises(ConfigError, match="search_k"):
        load_settings()


def test_every_setting_has_one_flat_name_and_round_trips() -> None:
    settings = load_settings(search_k=7, embed_titles=True, server_models=["openai/x"])
    assert (settings.search.k, settings.embed.titles) == (7, True)
    assert load_settings(**settings.flat()) == settings
    assert settings.updated(llm_retries=0).llm.retries == 0 and settings.llm.retries == 3


def test_a_list_setting_is_json_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_SERVER_MODELS", '["openai/gpt-4o-mini"]')
    assert load_settings().serve.models == ["openai/gpt-4o-mini"]
    monkeypatch.setenv("RAG_SERVER_MODELS", "openai/gpt-4o-mini")
    with pytest.raises(ConfigError, match="RAG_SERVER_MODELS is not a JSON list"):
        load_settings()
