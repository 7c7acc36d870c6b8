"""`python -m rag.cli ...` runs the `rag` command."""

from rag.cli.app import main

main()
