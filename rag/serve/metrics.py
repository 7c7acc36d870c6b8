"""What `GET /metrics` reports, in the Prometheus text format: requests by route and status, their
latency, each answer's stage times, answers by status, judge calls and tokens, build jobs, and
the served index (version, sources, passages).

Each service has its own registry (never the process-wide default), so two services in one
process, as in the tests, count apart.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from rag.serve.limits import ASGIApp, Message, Receive, Scope, Send
from rag.serve.schemas import Health, Job
from rag.types import Answer

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Seconds: a search takes milliseconds, a fact-check with the embedded model two minutes.
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300)
# Answer timings that are stages (others, such as `load`, are not per-question work).
STAGES = (
    "retrieve",
    "plan",
    "first_token",
    "generate",
    "validate",
    "repair",
    "first_section",
    "sections",
    "wrapup",
    "total",
)


class _Served(Collector):
    """The served index and the build queue, read when scraped."""

    def __init__(self, health: Callable[[], Health], building: Callable[[], bool]) -> None:
        self.health = health
        self.building = building

    def collect(self) -> Iterator[GaugeMetricFamily]:
        health = self.health()
        values = {
            "rag_index_version": ("Index version being served (0: none).", health.index_version),
            "rag_index_sources": ("Sources in the served version.", health.sources),
            "rag_index_passages": ("Passages in the served version.", health.passages),
            "rag_ready": ("1 when an index is served and the models are loaded.", health.ready),
            "rag_build_busy": ("1 while a build job is queued or running.", self.building()),
        }
        for name, (text, value) in values.items():
            yield GaugeMetricFamily(name, text, value=float(value or 0))


class Metrics:
    """The service's counters and histograms."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.requests = Counter(
            "rag_http_requests",
            "HTTP requests by route template, method and status.",
            ["route", "method", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "rag_http_request_seconds",
            "Time from a request's arrival to its last byte, by route template.",
            ["route"],
            buckets=_BUCKETS,
            registry=registry,
        )
        self.stages = Histogram(
            "rag_answer_stage_seconds",
            "Seconds each stage of an answer took (retrieve, first_token, generate, validate, "
            "repair; for fact-checks also plan, first_section, sections, wrapup; and total).",
            ["stage"],
            buckets=_BUCKETS,
            registry=registry,
        )
        self.answers = Counter("rag_answers", "Answers by status.", ["status"], registry=registry)
        self.checks = Counter("rag_text_checks", "Texts checked (POST /check).", registry=registry)
        self.judge_calls = Counter(
            "rag_judge_calls", "Calls to the validator's judge.", registry=registry
        )
        self.tokens = Counter(
            "rag_llm_tokens", "Tokens of the answering model, by kind.", ["kind"], registry=registry
        )
        self.jobs = Counter(
            "rag_build_jobs",
            "Build jobs that ended, by kind and state.",
            ["kind", "state"],
            registry=registry,
        )

    def serve(self, health: Callable[[], Health], building: Callable[[], bool]) -> None:
        """Report the served index from `health` and the build queue from `building`."""
        self.registry.register(_Served(health, building))

    def answer(self, answer: Answer) -> None:
        """Count one answer: its status, stage times, judge calls and tokens."""
        self.answers.labels(answer.status).inc()
        for stage in STAGES:
            if stage in answer.timings:
                self.stages.labels(stage).observe(answer.timings[stage])
        self.judge_calls.inc(answer.usage.get("judge_calls", 0))
        for kind in ("prompt_tokens", "completion_tokens"):
            self.tokens.labels(kind.removesuffix("_tokens")).inc(answer.usage.get(kind, 0))

    def job(self, job: Job) -> None:
        """Count one build job that ended."""
        self.jobs.labels(job.kind, job.state).inc()

    def text(self) -> bytes:
        """Everything, in the Prometheus text format."""
        return generate_latest(self.registry)


class CountRequests:
    """ASGI middleware: each HTTP request counted by its route template (never its raw path,
    whose ids would make a series per source) and timed to its last byte."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def sent(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sent)
        finally:
            route = _template(scope)
            self.metrics.requests.labels(route, scope["method"], str(status[0])).inc()
            self.metrics.latency.labels(route).observe(time.perf_counter() - started)


def _template(scope: Scope) -> str:
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    # A path no route matched is one label, whatever was asked for.
    return str(path) if path else "unmatched"
