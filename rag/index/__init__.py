"""Index: registered locations -> published, versioned index folders.

scan.py compares what the locations hold now with the last version; build.py writes and
publishes a new version; verify.py checks that a version's parts agree and mend.py publishes a
mended version when they do not; info.py reports what a version holds; probes.py makes the short
questions the approximate vector index is tuned on.
"""
