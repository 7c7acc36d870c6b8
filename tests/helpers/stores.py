"""The vector stores the store tests run on, and a Milvus server in its own process."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

# The vector stores the store tests run on: a module that tests the store sets
# `pytestmark = pytest.mark.parametrize("settings", STORES, indirect=True)`.
STORES = ("faiss", "milvus")


# Where several processes share one index (a build killed while readers search), Milvus
# must be a server: "milvus-server" runs `milvus-lite server` in its own process.
STORES_SHARED = ("faiss", "milvus-server")


@contextlib.contextmanager
def milvus_server(data_dir: Path) -> Iterator[str]:
    """A Milvus Lite gRPC server in its own process, on a free loopback port; its URI."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    args = ["server", "--data-dir", str(data_dir), "--host", "127.0.0.1", "--port", str(port)]
    log = (data_dir.parent / "milvus-server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "milvus_lite", *args], stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert proc.poll() is None, (data_dir.parent / "milvus-server.log").read_text()
            assert time.monotonic() < deadline, "milvus-lite server did not start in 60 s"
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
