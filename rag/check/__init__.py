"""Check a text (a claim, a paragraph, an article) against the index, claim by claim."""
