"""The `rag` command: the one place (with the server) where errors become messages and exit
codes."""

from rag.cli.app import cli, main

__all__ = ["cli", "main"]
