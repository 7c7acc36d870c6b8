"""Milvus connections: one client per URI and process, Milvus Lite's one-process rule turned
into a clear error, every refusal into VectorStoreError; and the collection of what no kept
version reads."""

from __future__ import annotations

import fcntl
import logging
import os
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.errors import IndexBusyError, VectorStoreError

if TYPE_CHECKING:
    from pymilvus import MilvusClient

LITE_FOLDER = "milvus.db"
_COLLECTION = re.compile(r"^(?P<prefix>[A-Za-z_][A-Za-z0-9_]*)_(?P<version>\d{6})$")
_clients: dict[tuple[str, str], MilvusClient] = {}
_clients_lock = threading.Lock()


class _NoMvccWarning(logging.Filter):
    """Milvus Lite has no MVCC timestamp for query iterators; pymilvus warns at every read."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "mvccTs" not in record.getMessage()


logging.getLogger("pymilvus.client.iterator.query_iterator").addFilter(_NoMvccWarning())


def resolve_uri(uri: str | None, root: Path) -> str:
    """The URI to connect to: as configured, or the Milvus Lite folder inside the index."""
    return uri if uri else str(Path(root) / LITE_FOLDER)


def is_lite(uri: str) -> bool:
    """True for a local Milvus Lite path, False for a server URI (http, https, tcp, unix)."""
    return "://" not in uri


def collection_name(prefix: str, version: int) -> str:
    """The collection a full build at `version` creates."""
    return f"{prefix}_{version:06d}"


def connect(uri: str, token: str = "") -> MilvusClient:
    """A client for `uri`, one per process (Milvus Lite lets one process open a folder)."""
    key = (uri, token)
    with _clients_lock:
        if key in _clients:
            return _clients[key]
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from pymilvus import MilvusClient
        from pymilvus.exceptions import MilvusException

        if is_lite(uri):
            Path(uri).parent.mkdir(parents=True, exist_ok=True)
            _refuse_locked(uri)
        try:
            client = MilvusClient(uri=uri, token=token, timeout=30)
        except MilvusException as exc:
            raise VectorStoreError(
                f"cannot connect to Milvus at {uri}: {exc.message}; start the server or fix "
                "RAG_MILVUS_URI (a Milvus Lite folder path or http://host:19530)"
            ) from exc
        _clients[key] = client
        return client


def close_clients() -> None:
    """Close every client this process opened, and stop the Milvus Lite servers behind them
    (which frees their folders for other processes)."""
    with _clients_lock:
        clients = list(_clients.items())
        _clients.clear()
    for (uri, _), client in clients:
        client.close()
        if is_lite(uri):
            from milvus_lite.server_manager import server_manager_instance

            server_manager_instance.release_server(uri)


def _refuse_locked(uri: str) -> None:
    """Milvus Lite serves one process per folder; say so before pymilvus fails vaguely."""
    lock = Path(uri) / "LOCK"
    if not lock.exists():
        return
    fd = os.open(lock, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
    except BlockingIOError as exc:
        raise IndexBusyError(
            f"the Milvus Lite folder {uri} is open in another process (a `rag serve`, or a "
            "build); Milvus Lite serves one process at a time: stop that process, or run a "
            "Milvus server (`milvus-lite server --data-dir PATH`) and set "
            "RAG_MILVUS_URI=http://127.0.0.1:19530"
        ) from exc
    finally:
        os.close(fd)


def call(what: str, uri: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    from pymilvus.exceptions import MilvusException

    try:
        return fn(*args, **kwargs)
    except MilvusException as exc:
        raise VectorStoreError(f"Milvus at {uri} refused to {what}: {exc.message}") from exc


def collect_garbage(uri: str, token: str, prefix: str, kept: dict[str, int]) -> list[str]:
    """Drop this index's collections no kept version uses, and in the ones in use the rows
    dead to the oldest version using them (`kept`: collection -> that version). Returns the
    collections dropped."""
    client = connect(uri, token)
    dropped = []
    for name in call("list collections", uri, client.list_collections):
        match = _COLLECTION.match(name)
        if not match or match["prefix"] != prefix:
            continue
        if name not in kept:
            call("drop a collection", uri, client.drop_collection, name)
            dropped.append(name)
        else:
            call(
                "delete rows",
                uri,
                client.delete,
                name,
                filter=f"died <= {kept[name]}",
            )
    return dropped
