"""What the tests share: fakes for the encoder and the chat model (fakes.py), corpora and files
to index (data.py), the vector stores to run on (stores.py) and vectors to tune on (vectors.py).
No test module imports another."""
