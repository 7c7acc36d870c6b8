"""Validate: an answer and its numbered passages -> a verdict per sentence.

claims.py splits an answer into the sentences it asserts; validator.py checks each, cheapest
first: structure, the fast scored layer (support.py), then the LLM judge (judge.py) for what
the fast layer cannot settle; injection.py keeps sentences that address the model from ever
counting as support.
"""
