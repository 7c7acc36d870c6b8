"""Serve: the HTTP API and web page of `rag serve`.

service.py is what the routes call (models loaded once, the served version switched when a new
one is published); app.py holds the FastAPI routes and error mapping; schemas.py the request
and response bodies; jobs.py runs builds in the background; limits.py caps bodies and rates;
web/ is the page.
"""
