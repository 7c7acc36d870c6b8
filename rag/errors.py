"""The few errors the library raises; the CLI and server turn them into messages and exit codes."""

from __future__ import annotations


class RagError(Exception):
    """Base of every error the library raises on purpose; its message says what to do."""

    exit_code = 1


class ConfigError(RagError):
    """A setting or flag has a value the library cannot use."""


class QuestionError(ConfigError):
    """A question that cannot be asked as given: empty or too long."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class IngestError(RagError):
    """A source could not be read; carries the path and the reason."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class IndexNotFoundError(RagError):
    """No published index exists at the given folder."""


class IndexMismatchError(RagError):
    """The index was built with another model, dimension, chunking or format version."""


class IndexBusyError(RagError):
    """Another process holds the index's write lock."""

    exit_code = 4


class IndexCorruptError(RagError):
    """Files of a published index version are missing or disagree with each other."""


class VectorStoreError(RagError):
    """The vector database (a Milvus server) could not be reached or refused a request."""


class SourceNotFoundError(RagError):
    """A source id the index does not hold."""


class EmbeddingError(RagError):
    """The embedding model could not be loaded or run."""


class LLMError(RagError):
    """The language model could not be reached or gave no usable reply."""


class ProviderConfigError(LLMError):
    """A provider is named but its key or address is not configured."""
