"""Retrieve: a question -> ranked passages (dense, BM25 or both fused, plus the title-link hop
and optional query decomposition)."""
