"""One settings object, nested by stage (`settings.embed.model`, `settings.search.k`, ...), read
from `RAG_*` variables with flags on top.

Every setting has one flat name, its field's alias: `RAG_<NAME>` in the environment and
`load_settings(<name>=...)` (what the CLI's flags pass) both use it.

    >>> settings = load_settings(search_k=7, embed_titles=True)
    >>> settings.search.k, settings.embed.titles
    (7, True)
    >>> settings.updated(search_k=3).search.k
    3
"""

from __future__ import annotations

import json
import os
import typing
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rag.config.answering import (
    AnswerSettings,
    CheckSettings,
    EvaluateSettings,
    LLMSettings,
    SearchSettings,
    ServeSettings,
    ValidatorSettings,
)
from rag.config.indexing import (
    DEFAULT_EMBED_MODEL,
    LOCAL_LLM,
    ChunkSettings,
    EmbedSettings,
    Group,
    IndexSettings,
    LocalSettings,
    SearchMode,
    StoreBackend,
    StoreSettings,
    ValidateMode,
)
from rag.errors import ConfigError

ENV_PREFIX = "RAG_"


class Settings(BaseModel):
    """Every knob of the service, one group per stage; build it with `load_settings`."""

    model_config = ConfigDict(extra="forbid")

    index: IndexSettings = Field(default_factory=IndexSettings, description="rag/index.")
    chunk: ChunkSettings = Field(default_factory=ChunkSettings, description="rag/ingest/chunk.py.")
    embed: EmbedSettings = Field(default_factory=EmbedSettings, description="rag/embed.")
    store: StoreSettings = Field(default_factory=StoreSettings, description="rag/store.")
    search: SearchSettings = Field(default_factory=SearchSettings, description="rag/retrieve.")
    llm: LLMSettings = Field(default_factory=LLMSettings, description="rag/llm.")
    local: LocalSettings = Field(default_factory=LocalSettings, description="This machine.")
    answer: AnswerSettings = Field(default_factory=AnswerSettings, description="rag/answer.")
    validator: ValidatorSettings = Field(
        default_factory=ValidatorSettings, description="rag/validate."
    )
    check: CheckSettings = Field(default_factory=CheckSettings, description="rag/check.")
    evaluate: EvaluateSettings = Field(
        default_factory=EvaluateSettings, description="rag/evaluate."
    )
    serve: ServeSettings = Field(default_factory=ServeSettings, description="rag/serve.")

    def flat(self) -> dict[str, Any]:
        """Every setting by its flat name, as JSON values (secrets masked)."""
        out: dict[str, Any] = {}
        for group in _GROUPS:
            out |= getattr(self, group).model_dump(mode="json", by_alias=True)
        return out

    def updated(self, **changes: Any) -> Settings:
        """A validated copy with some settings changed, by flat name."""
        values = {name: getattr(getattr(self, g), f) for name, (g, f) in FLAT.items()}
        return _build(values | changes)


_GROUPS = [name for name in Settings.model_fields]
# flat name -> (group, field)
FLAT: dict[str, tuple[str, str]] = {
    info.alias or field: (group, field)
    for group in _GROUPS
    for field, info in typing.cast(
        type[Group], Settings.model_fields[group].default_factory
    ).model_fields.items()
}


def _from_environment() -> dict[str, Any]:
    """The RAG_* variables of the environment (any case), by flat name; JSON for lists."""
    found: dict[str, Any] = {}
    environ = {key.upper(): value for key, value in os.environ.items()}
    for name, (group, field) in FLAT.items():
        raw = environ.get(ENV_PREFIX + name.upper())
        if raw is None:
            continue
        group_type = typing.cast(type[Group], Settings.model_fields[group].default_factory)
        annotation = group_type.model_fields[field].annotation
        if typing.get_origin(annotation) is list:
            try:
                found[name] = json.loads(raw)
            except ValueError as exc:
                raise ConfigError(
                    f"{ENV_PREFIX}{name.upper()} is not a JSON list ({exc}); write it like "
                    '\'["a", "b"]\''
                ) from exc
        else:
            found[name] = raw
    return found


def _build(values: dict[str, Any]) -> Settings:
    unknown = sorted(set(values) - set(FLAT))
    if unknown:
        raise ConfigError(
            f"unknown setting(s) {', '.join(unknown)}; the README's Settings table lists them"
        )
    grouped: dict[str, dict[str, Any]] = {group: {} for group in _GROUPS}
    for name, value in values.items():
        grouped[FLAT[name][0]][name] = value
    try:
        return Settings.model_validate(grouped)
    except ValidationError as exc:
        problems = "; ".join(_problem(err) for err in exc.errors())
        raise ConfigError(
            f"invalid settings ({problems}); fix the RAG_* variable or flag named"
        ) from exc


def _problem(err: Any) -> str:
    where = [str(p) for p in err["loc"][1:]]  # the group is not a setting's name
    if where:
        return f"{where[0]} (RAG_{where[0].upper()}): {err['msg']}"
    return f"settings: {err['msg']}"


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment with `overrides` (flags, by flat name) on top; None means
    "not given"."""
    given = {k: v for k, v in overrides.items() if v is not None}
    return _build(_from_environment() | given)


__all__ = [
    "DEFAULT_EMBED_MODEL",
    "FLAT",
    "LOCAL_LLM",
    "AnswerSettings",
    "CheckSettings",
    "ChunkSettings",
    "EmbedSettings",
    "EvaluateSettings",
    "IndexSettings",
    "LLMSettings",
    "LocalSettings",
    "SearchMode",
    "SearchSettings",
    "ServeSettings",
    "Settings",
    "StoreBackend",
    "StoreSettings",
    "ValidateMode",
    "ValidatorSettings",
    "load_settings",
]
