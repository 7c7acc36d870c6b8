"""Ingest: files and corpus lines -> Sources -> Passages.

readers.py turns the bytes of one file into documents (text, markdown, HTML, PDF, JSONL);
html.py reads a page's article text (trafilatura, else its article/main element);
files.py walks a registered location and reads each file, reporting what it cannot read;
chunk.py cuts a source into sentence-aligned passages with stable ids.
"""
