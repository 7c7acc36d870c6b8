"""Settings: environment, flags on top, and errors that name the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.config import Settings, load_settings
from rag.errors import ConfigError


def test_every_field_is_described() -> None:
    assert all(field.description for field in Settings.model_fields.values())


def test_environment_then_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_SEARCH_K", "7")
    monkeypatch.setenv("RAG_INDEX_DIR", "/tmp/from-env")
    settings = load_settings(index_dir=Path("/tmp/from-flag"), search_mode=None)
    assert settings.search_k == 7
    assert settings.index_dir == Path("/tmp/from-flag")
    assert settings.search_mode == "hybrid"


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
