"""Embed: texts -> unit vectors, from a sentence-transformers model shipped in a PyPI package.

base.py holds the `Embedder` protocol every stage codes against; encoder.py the
sentence-transformers implementation with its faster paths (onnx.py for single questions,
int8.py and batches.py for big jobs).
"""

from rag.embed.base import Embedder, LockedEmbedder, Vectors, embed_in_blocks

__all__ = ["Embedder", "LockedEmbedder", "Vectors", "embed_in_blocks"]
