"""rag: cited answers over your own sources."""

__version__ = "0.1.0"
