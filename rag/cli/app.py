"""The `rag` command group: every subcommand, and the console-script entry point."""

from __future__ import annotations

import click

from rag.cli.answers import ask_command, search_command, validate_command
from rag.cli.check import check_command
from rag.cli.common import Runtime
from rag.cli.eval import eval_group
from rag.cli.index import index_group
from rag.cli.serve import mcp_command, serve_command


@click.group()
@click.version_option(package_name="rag")
def cli() -> None:
    """Cited answers over your own sources."""


for command in (
    index_group,
    search_command,
    ask_command,
    validate_command,
    check_command,
    eval_group,
    serve_command,
    mcp_command,
):
    cli.add_command(command)


def main(runtime: Runtime | None = None) -> None:
    """Console-script entry point; `runtime` gives the encoder and models to use (tests)."""
    cli(prog_name="rag", obj=runtime or Runtime())
