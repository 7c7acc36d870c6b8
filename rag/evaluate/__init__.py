"""Evaluate: a gold set -> scored records, metrics and a report; two runs compared.

run.py drives a run (resumable, concurrent); gold.py reads gold files; scoring.py and
metrics.py hold the pure scores; report.py writes the HTML report; compare.py compares runs;
devset.py makes the validator's labeled items.
"""
