"""What the HTTP routes share: library errors as HTTP statuses, and work done in a thread whose
events reach the event loop as it goes (for streamed replies)."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

from rag.errors import (
    Cancelled,
    ConfigError,
    DiskFullError,
    EmbeddingError,
    IndexBusyError,
    IndexCorruptError,
    IndexMismatchError,
    IndexNotFoundError,
    LLMError,
    ProviderConfigError,
    RagError,
    SourceNotFoundError,
    VectorStoreError,
)
from rag.serve.schemas import ErrorBody

log = logging.getLogger("rag.serve")
HEARTBEAT_S = 15.0

# Library errors -> HTTP status; the first matching class wins (subclasses first). The body's
# code is the error's own (rag/errors.py), the one `rag --json` prints too.
_HTTP_STATUS: list[tuple[type[RagError], int]] = [
    (SourceNotFoundError, 404),
    (DiskFullError, 507),
    (ProviderConfigError, 503),
    (LLMError, 502),
    (IndexNotFoundError, 503),
    (IndexBusyError, 409),
    (IndexMismatchError, 503),
    (IndexCorruptError, 503),
    (EmbeddingError, 503),
    (VectorStoreError, 503),
    (ConfigError, 400),
    (RagError, 500),
]

Event = tuple[str, dict[str, Any]]
Put = Callable[[str, dict[str, Any]], None]


class ApiError(Exception):
    """An HTTP-level refusal raised by a route: status, code and message."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


def error_of(exc: RagError) -> tuple[int, ErrorBody]:
    """HTTP status and body for a library error."""
    for kind, status in _HTTP_STATUS:
        if isinstance(exc, kind):
            return status, ErrorBody(code=exc.code, message=str(exc))
    raise AssertionError("RagError is the last row")  # pragma: no cover


async def events_of(work: Callable[[Put], None], what: str) -> AsyncIterator[Event | None]:
    """Runs `work` in a thread; yields each (event, data) it puts, None when nothing came for
    HEARTBEAT_S (the caller sends a keep-alive), and last ("error", {code, message,
    http_status}) if it raised. `what` names the work in the server log."""
    loop = asyncio.get_running_loop()
    events: asyncio.Queue[Event | None] = asyncio.Queue()
    gone = threading.Event()  # set once nobody reads the events any more

    def put(event: str, data: dict[str, Any]) -> None:
        # Every token, section and progress message passes here: the first one after the
        # client left stops the work, and with it the model's generation.
        if gone.is_set():
            raise Cancelled("the client went away; the work was stopped")
        loop.call_soon_threadsafe(events.put_nowait, (event, data))

    def run() -> None:
        try:
            work(put)
        except Cancelled:
            log.info("stopped %s: the client went away", what)
            return
        except RagError as exc:
            status, error = error_of(exc)
            put("error", {**error.model_dump(), "http_status": status})
        except Exception:
            log.exception("unhandled error in %s", what)
            put("error", {"code": "internal", "message": "internal error", "http_status": 500})
        finally:
            if not gone.is_set():
                loop.call_soon_threadsafe(events.put_nowait, None)

    worker = loop.run_in_executor(None, run)
    try:
        while True:
            try:
                item = await asyncio.wait_for(events.get(), timeout=HEARTBEAT_S)
            except TimeoutError:
                yield None
                continue
            if item is None:
                break
            yield item
        await worker
    finally:
        # Reached also when the response is cancelled because the client disconnected.
        gone.set()
