"""The few errors the library raises on purpose. Each message says what to do; each class has a
stable `code` for programs. Only the CLI and the server turn them into exit codes and HTTP
statuses (rag/cli/common.py, rag/serve/app.py)."""

from __future__ import annotations

import errno


class RagError(Exception):
    """Base of every error the library raises on purpose."""

    code = "error"


class ConfigError(RagError):
    """A setting, flag or request value the library cannot use."""

    code = "bad_request"


class QuestionError(ConfigError):
    """A question that cannot be asked as given: empty or too long."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class InputLineError(ConfigError):
    """A line of an input file (JSONL) that could not be read; the others were."""

    code = "bad_line"


class IngestError(RagError):
    """A source could not be read; carries the path and the reason."""

    code = "unreadable_source"

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class IndexNotFoundError(RagError):
    """No published index exists at the given folder."""

    code = "no_index"


class IndexMismatchError(RagError):
    """The index was built with another model, dimension, chunking or format version."""

    code = "index_unavailable"


class IndexBusyError(RagError):
    """Another process holds the index's write lock."""

    code = "index_busy"


class IndexCorruptError(RagError):
    """Files of a published index version are missing or disagree with each other."""

    code = "index_unavailable"


class VectorStoreError(RagError):
    """The vector database (a Milvus server) could not be reached or refused a request."""

    code = "vector_store_unavailable"


class SourceNotFoundError(RagError):
    """A source id the index does not hold."""

    code = "unknown_source"


class EmbeddingError(RagError):
    """The embedding model could not be loaded or run."""

    code = "embedder_unavailable"


class LLMError(RagError):
    """The language model could not be reached or gave no usable reply."""

    code = "model_error"


class ProviderConfigError(LLMError):
    """A provider is named but its key or address is not configured."""

    code = "model_unavailable"


class Cancelled(RagError):
    """The caller went away (a streamed answer's client disconnected): the work was stopped so
    the model is free for the next request."""

    code = "cancelled"


class DiskFullError(RagError):
    """The disk filled up; what was published or written before is intact."""

    code = "disk_full"


def out_of_space(exc: BaseException) -> bool:
    """Whether `exc` says a disk is full (OS errors, and SQLite's and FAISS's own words).

    >>> import errno
    >>> out_of_space(OSError(errno.ENOSPC, "No space left on device")), out_of_space(ValueError())
    (True, False)
    """
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(exc).lower()
    return "disk is full" in text or "no space left" in text
