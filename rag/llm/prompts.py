"""Prompt templates, loaded by name from the package `rag.prompts` (the top-level prompts/
folder, shipped in the wheel) and checked for their placeholders."""

from __future__ import annotations

import hashlib
import re
import string
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable

from rag.errors import ConfigError

PROMPTS = resources.files("rag.prompts")
_FRONT = re.compile(r"\A---\n(.*?)\n---\n", re.DOTALL)
_PART = re.compile(r"^=== (system|user|prefill) ===\n", re.MULTILINE)


@dataclass(frozen=True)
class Prompt:
    """A loaded template: system and user parts, and the version answers record."""

    name: str
    version: str
    system: str
    user: str
    placeholders: frozenset[str]
    prefill: str = ""

    @property
    def id(self) -> str:
        """name@version+hash of the text, so an edited prompt without a bump still shows."""
        text = "\x00".join((self.system, self.user, self.prefill))
        digest = hashlib.sha256(text.encode()).hexdigest()[:8]
        return f"{self.name}@{self.version}+{digest}"

    @property
    def fixed_system(self) -> str | None:
        """The system message if it is the same for every question (no placeholders)."""
        return None if _fields(self.system) else self.system

    def render(self, **values: object) -> list[dict[str, str]]:
        """Chat messages with the placeholders filled; every placeholder must be given."""
        missing = self.placeholders - set(values)
        extra = set(values) - self.placeholders
        if missing or extra:
            raise ConfigError(
                f"prompt {self.name!r} needs {sorted(self.placeholders)}; "
                f"missing {sorted(missing)}, unexpected {sorted(extra)}"
            )
        text = {k: str(v) for k, v in values.items()}
        return [
            {"role": "system", "content": _fill(self.system, text)},
            {"role": "user", "content": _fill(self.user, text)},
        ]

    def prefilled(
        self, messages: list[dict[str, str]], continues_reply: bool
    ) -> tuple[list[dict[str, str]], str]:
        """The messages for a model, and the start of the reply they give: a model that
        continues a reply is given the prefill as the reply's start."""
        if continues_reply and self.prefill:
            return self.with_prefill(messages), self.prefill
        return messages, ""

    def with_prefill(self, messages: list[dict[str, str]]) -> list[dict[str, str]]:
        """The messages plus the start of the reply, for engines that continue a reply."""
        if not self.prefill:
            return messages
        return [*messages, {"role": "assistant", "content": self.prefill}]


def _fill(template: str, values: dict[str, str]) -> str:
    # format_map would choke on braces inside passages only if they were in the template;
    # values are inserted verbatim, never re-parsed.
    return template.format_map(values)


def _fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}


def parse_prompt(name: str, text: str) -> Prompt:
    """A prompt from a file's text; errors name the file's problem."""
    front = _FRONT.match(text)
    if not front:
        raise ConfigError(f"prompt {name!r}: missing front matter (---, version:, placeholders:)")
    meta: dict[str, str] = {}
    for line in front.group(1).splitlines():
        key, sep, value = line.partition(":")
        if sep:
            meta[key.strip()] = value.strip()
    if not meta.get("version"):
        raise ConfigError(f"prompt {name!r}: front matter has no version")
    declared = {p.strip() for p in meta.get("placeholders", "").split(",") if p.strip()}
    body = text[front.end() :]
    pieces = _PART.split(body)
    parts = dict(zip(pieces[1::2], pieces[2::2], strict=True))
    if not {"system", "user"} <= set(parts) or len(pieces[1::2]) != len(parts):
        raise ConfigError(
            f"prompt {name!r}: needs one '=== system ===' and one '=== user ===' part "
            "(and at most one '=== prefill ===')"
        )
    system, user = parts["system"].strip() + "\n", parts["user"].strip() + "\n"
    try:
        used = _fields(system) | _fields(user)
    except ValueError as exc:
        raise ConfigError(
            f"prompt {name!r}: bad braces ({exc}); write literal braces as {{{{ }}}}"
        ) from exc
    if used != declared:
        raise ConfigError(
            f"prompt {name!r}: declared placeholders {sorted(declared)} but the text uses "
            f"{sorted(used)}; make them agree"
        )
    prefill = parts.get("prefill", "").strip()
    return Prompt(
        name, meta["version"], system, user, frozenset(declared), prefill + "\n" if prefill else ""
    )


def load_prompt(name: str, folder: Traversable | None = None) -> Prompt:
    """The prompt `name` from `folder` (default: the packaged prompts), as <name>.md."""
    path = (folder or PROMPTS) / f"{name}.md"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"no prompt named {name!r}: {path} does not exist") from exc
    return parse_prompt(name, text)
