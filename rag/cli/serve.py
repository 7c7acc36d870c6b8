"""`rag serve`: the HTTP service and web page, on loopback unless told otherwise."""

from __future__ import annotations

import ipaddress
import logging
import socket
from pathlib import Path

import click

from rag.cli.common import emit_json, err, handles_errors, index_option, json_option, runtime
from rag.config import load_settings
from rag.errors import ConfigError


def is_loopback(host: str) -> bool:
    """Whether `host` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        try:
            return all(
                ipaddress.ip_address(info[4][0]).is_loopback
                for info in socket.getaddrinfo(host, None)
            )
        except OSError:
            return False


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option(
    "--public",
    is_flag=True,
    help="Bind a non-loopback address even though RAG_ADMIN_TOKEN is not set.",
)
@index_option
@json_option
@handles_errors
def serve_command(
    host: str, port: int, public: bool, index_dir: Path | None, as_json: bool
) -> None:
    """Serve the API (/docs) and the web page (/) over the index; models load before the
    first request."""
    import uvicorn

    from rag.serve.app import create_app
    from rag.serve.service import Service

    settings = load_settings(index_dir=index_dir)
    if not is_loopback(host) and settings.serve.admin_token is None and not public:
        raise ConfigError(
            f"{host} is reachable from other machines and RAG_ADMIN_TOKEN is not set; set it "
            "(the admin endpoints need it anyway), bind 127.0.0.1, or pass --public"
        )
    given = runtime()
    service = Service(settings, embedder=given.embedder, models=given.chat_models())
    if not as_json:
        err.print("[dim]loading the embedding model and the answering model…[/]", highlight=False)
    service.start()
    health = service.health()
    url = f"http://{host}:{port}/"
    if as_json:
        emit_json({"url": url, **health.model_dump()})
    else:
        served = (
            f"index version {health.index_version} ({health.sources} sources, "
            f"{health.passages} passages)"
            if health.ready
            else f"no index at {health.index_dir} yet"
        )
        err.print(f"serving {served} at [bold]{url}[/] (API: {url}docs)", highlight=False)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    uvicorn.run(
        create_app(service=service),
        host=host,
        port=port,
        log_level="warning" if as_json else "info",
        timeout_graceful_shutdown=10,
    )


@click.command("mcp")
@index_option
@handles_errors
def mcp_command(index_dir: Path | None) -> None:
    """Serve the index to MCP clients over stdio: tools ask, search, check and get_source,
    and the sources as resources. Register it in a client as the command `rag mcp`."""
    try:
        from rag.serve.mcp_server import build_server
    except ImportError as exc:
        if not (exc.name or "").startswith("mcp"):
            raise
        raise ConfigError(
            "rag mcp needs the MCP SDK: pip install 'rag[mcp]' (the package 'mcp')"
        ) from exc
    from rag.serve.service import Service

    settings = load_settings(index_dir=index_dir)
    given = runtime()
    service = Service(settings, embedder=given.embedder, models=given.chat_models())
    # stdout carries the protocol: everything else goes to stderr.
    err.print("[dim]rag mcp: loading the embedding model and the answering model…[/]")
    service.start()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        build_server(service).run("stdio")
    finally:
        service.close()
