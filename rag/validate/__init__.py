"""Validate: an answer and its numbered passages -> a verdict per sentence.

claims.py splits an answer into the sentences it asserts; validator.py checks each, cheapest
first: structure, the fast scored layer (support.py; its word rules in wording.py,
relations.py, proximity.py and frames.py, which asks lexicon.py, WordNet, which words may stand
for which), then the LLM judge (judge.py) for what the fast layer cannot settle; injection.py
keeps sentences that address the model from ever counting as support. premise.py reads the
question itself against the passages: what it takes for granted that they do not say; asked.py
reads what kind of thing it asks for, and whether an answer gives one.
"""
