"""The HTTP service (`rag serve`): FastAPI routes over rag.serve.service, errors as {code, message},
answers streamed as server-sent events, and the web page."""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, FastAPI, File, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Route

from rag.answer.question import clean_question
from rag.config import Settings, load_settings
from rag.errors import QuestionError, RagError
from rag.serve.chat_api import OpenAIErrors, chat_routes
from rag.serve.limits import BodyLimit, RateLimit, RateLimiter
from rag.serve.metrics import CONTENT_TYPE, CountRequests, Metrics
from rag.serve.schemas import (
    AskRequest,
    CheckRequest,
    ErrorBody,
    Health,
    IndexState,
    Job,
    SearchResponse,
    SourceDetail,
    SourceList,
    UploadResult,
    WebSourceRequest,
)
from rag.serve.service import Service
from rag.serve.streaming import ApiError, Put, error_of, events_of
from rag.types import Answer, TextCheck

log = logging.getLogger("rag.serve")
WEB = resources.files("rag.serve") / "web"
_JSON_BODY_LIMIT = 64_000
_API_PREFIXES = ("/ask", "/check", "/search", "/sources", "/index", "/v1/")
# A chat client sends the conversation so far; only its last user message is read.
_CHAT_BODY_LIMIT = 1_000_000


def _error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        ErrorBody(code=code, message=message).model_dump(), status_code=status, headers=headers
    )


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        return _error(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(RagError)
    async def rag_error(request: Request, exc: RagError) -> Response:
        status, body = error_of(exc)
        return _error(status, body.code, body.message)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5]
        )
        return _error(422, "invalid_request", f"{problems}; see /docs for the request shape")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
            # FastAPI's words for a body that is not UTF-8 or nests too deep to decode.
            return _error(
                422,
                "invalid_request",
                "the body could not be read as JSON (not UTF-8, or nested too deep); send "
                'a JSON object such as {"question": "..."}; see /docs for the request shape',
            )
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            # Starlette names the methods of the first route with this path; two routes share
            # some (GET /sources, and POST /sources for admins).
            allowed = {
                method
                for route in _all_routes(request.app.routes)
                if isinstance(route, Route) and route.matches(request.scope)[0] != Match.NONE
                for method in route.methods or ()
            }
            headers = {"Allow": ", ".join(sorted(allowed))}
        return _error(exc.status_code, code, str(exc.detail), headers)

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _error(500, "internal", "internal error; the server log has the details")


def _all_routes(routes: list[Any]) -> Iterator[Any]:
    """Every route, those of included routers too (FastAPI keeps those behind the router)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        yield from _all_routes(inner.routes) if inner is not None else [route]


def _limits(app: FastAPI, settings: Settings, metrics: Metrics) -> None:
    def limit_for(method: str, path: str) -> int:
        if method == "POST" and path == "/sources":
            return int(settings.serve.max_upload_mb * 1_000_000)
        return _CHAT_BODY_LIMIT if path.startswith("/v1/") else _JSON_BODY_LIMIT

    app.add_middleware(BodyLimit, limit_for=limit_for)
    app.add_middleware(
        RateLimit,
        limiter=RateLimiter(settings.serve.rate_limit_per_minute),
        limited=lambda path: path.startswith(_API_PREFIXES),
    )
    app.add_middleware(OpenAIErrors)
    # Outermost, so refusals by the limits are counted too.
    app.add_middleware(CountRequests, metrics=metrics)


def create_app(settings: Settings | None = None, service: Service | None = None) -> FastAPI:
    """The application; models load and the index opens at start-up (the lifespan)."""
    settings = settings or (service.settings if service else load_settings())
    service = service or Service(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not service.ready:
            await anyio.to_thread.run_sync(service.start)
        yield
        await anyio.to_thread.run_sync(service.close)

    app = FastAPI(
        title="rag",
        summary="Cited answers over your own sources; every [n] is checked against its passage.",
        version="0.1.0",
        lifespan=lifespan,
        responses={
            400: {"model": ErrorBody, "description": "Bad request"},
            413: {"model": ErrorBody, "description": "Request body over its limit"},
            422: {"model": ErrorBody, "description": "Request not in the documented shape"},
            429: {"model": ErrorBody, "description": "Too many requests"},
            500: {"model": ErrorBody, "description": "Internal error (no details)"},
            503: {"model": ErrorBody, "description": "No index or model available"},
        },
    )
    app.state.service = service
    _install_error_handlers(app)
    _limits(app, settings, service.metrics)
    _reading_routes(app, service, settings)
    _admin_routes(app, service)
    app.include_router(chat_routes(service, settings))
    app.mount("/static", StaticFiles(directory=str(WEB)), name="static")

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(str(WEB / "index.html"), headers={"Cache-Control": "no-cache"})

    @app.get(
        "/metrics",
        tags=["service"],
        response_class=Response,
        responses={200: {"content": {CONTENT_TYPE: {}}, "description": "Prometheus text format."}},
    )
    def metrics() -> Response:
        """Requests by route and status, latency per route and per answer stage, answers by
        status, judge calls, tokens, build jobs, and the served index, for Prometheus."""
        return Response(service.metrics.text(), media_type=CONTENT_TYPE)

    return app


def _check_question(question: str, settings: Settings) -> str:
    try:
        return clean_question(question, settings.answer.max_question_chars)
    except QuestionError as exc:
        raise ApiError(400, exc.code, str(exc)) from exc


def _reading_routes(app: FastAPI, service: Service, settings: Settings) -> None:
    @app.get("/healthz", response_model=Health, tags=["service"])
    def healthz() -> JSONResponse:
        """Readiness: 200 when an index version is served and the models are loaded, else
        503 with the same body."""
        health = service.health()
        return JSONResponse(health.model_dump(), status_code=200 if health.ready else 503)

    @app.post(
        "/ask",
        response_model=Answer,
        tags=["answers"],
        responses={
            200: {
                "content": {"text/event-stream": {}},
                "description": "The validated Answer; with Accept: text/event-stream, events "
                "'progress', 'token' (what the model is writing, unchecked), 'section' (each "
                "section of a fact-check once checked: n, heading, text, citations) and last "
                "'answer' (or 'error').",
            },
            502: {"model": ErrorBody},
        },
    )
    async def ask(body: AskRequest, request: Request) -> Any:
        """Answer a question from the served index, every [n] checked against its passage."""
        question = _check_question(body.question, settings)
        if "text/event-stream" in request.headers.get("accept", ""):
            return StreamingResponse(
                _stream_answer(service, question, body),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )
        return await anyio.to_thread.run_sync(
            lambda: service.ask(question, k=body.k, model=body.model)
        )

    @app.post(
        "/check",
        response_model=TextCheck,
        tags=["answers"],
        responses={
            200: {
                "content": {"text/event-stream": {}},
                "description": "The TextCheck; with Accept: text/event-stream, events 'claim' "
                "(each claim once settled) and last 'check' (or 'error').",
            },
            502: {"model": ErrorBody},
        },
    )
    async def check(body: CheckRequest, request: Request) -> Any:
        """Check a text against the served index: each claim supported, contradicted or not
        found, with the passages behind it."""
        if not body.text.strip():
            raise ApiError(400, "empty_text", 'the text is empty; send {"text": "..."}')
        if "text/event-stream" in request.headers.get("accept", ""):
            return StreamingResponse(
                _stream_check(service, body.text),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )
        return await anyio.to_thread.run_sync(lambda: service.check(body.text))

    @app.get("/search", response_model=SearchResponse, tags=["search"])
    def search(
        q: Annotated[str, Query(description="What to look for.")],
        k: Annotated[int, Query(ge=1, le=100, description="Hits to return.")] = 10,
    ) -> SearchResponse:
        """The k passages that match q best (hybrid dense + BM25 by default)."""
        return service.search(_check_question(q, settings), k)

    @app.get("/sources", response_model=SourceList, tags=["sources"])
    def sources(
        offset: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> SourceList:
        """Sources of the served index version, sorted by id."""
        return service.sources(offset, limit)

    @app.get(
        "/sources/{source_id:path}",
        response_model=SourceDetail,
        tags=["sources"],
        responses={404: {"model": ErrorBody, "description": "No such source"}},
    )
    def source(source_id: str) -> SourceDetail:
        """One source with its passages."""
        return service.source(source_id)

    @app.get("/index", response_model=IndexState, tags=["index"])
    def index_state() -> IndexState:
        """The served version and the recent background jobs with their progress."""
        return service.index_state()


async def _stream_answer(service: Service, question: str, body: AskRequest) -> AsyncIterator[str]:
    """Server-sent events: progress, the draft's tokens, each checked section, then the validated
    answer (or an error)."""

    def work(put: Put) -> None:
        answer = service.ask(
            question,
            k=body.k,
            model=body.model,
            on_token=lambda t: put("token", {"text": t}) if t else None,
            on_progress=lambda m: put("progress", {"message": m}),
            on_section=lambda section: put("section", section.model_dump(mode="json")),
        )
        put("answer", answer.model_dump(mode="json"))

    yield _event("progress", {"message": "retrieving passages and writing a draft"})
    async for item in events_of(work, f"answering {question!r}"):
        # A comment line keeps proxies from closing a quiet stream.
        yield ": still working\n\n" if item is None else _event(*item)


async def _stream_check(service: Service, text: str) -> AsyncIterator[str]:
    """Server-sent events: each claim once settled, then the whole check (or an error)."""

    def work(put: Put) -> None:
        report = service.check(text, on_claim=lambda c: put("claim", c.model_dump(mode="json")))
        put("check", report.model_dump(mode="json"))

    async for item in events_of(work, "checking a text"):
        yield ": still checking\n\n" if item is None else _event(*item)


def _event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


_bearer = HTTPBearer(auto_error=False, description="RAG_ADMIN_TOKEN of the server")


def _admin(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """The admin token check: off without RAG_ADMIN_TOKEN, compared in constant time."""
    token = request.app.state.service.settings.serve.admin_token
    if token is None:
        raise ApiError(
            403,
            "admin_disabled",
            "changing the index over HTTP is disabled; start the server with "
            "RAG_ADMIN_TOKEN set to enable it",
        )
    given = credentials.credentials.encode() if credentials else b""
    if not hmac.compare_digest(given, token.get_secret_value().encode()):
        raise ApiError(
            401,
            "unauthorized",
            "missing or wrong admin token; send the header Authorization: Bearer <token>",
            {"WWW-Authenticate": "Bearer"},
        )


def _admin_routes(app: FastAPI, service: Service) -> None:
    # Every route of this router changes the index, so the token check sits on the router.
    admin = APIRouter(
        tags=["admin"],
        dependencies=[Depends(_admin)],
        responses={
            401: {"model": ErrorBody, "description": "Missing or wrong admin token"},
            403: {"model": ErrorBody, "description": "Admin endpoints disabled (no token set)"},
            404: {"model": ErrorBody, "description": "No such source"},
            409: {"model": ErrorBody, "description": "Another process is building the index"},
        },
    )

    @admin.post(
        "/sources",
        response_model=UploadResult,
        status_code=202,
    )
    async def upload(files: Annotated[list[UploadFile], File(description="Files")]) -> Any:
        """Upload .txt, .md, .html, .pdf or .jsonl files; they are indexed in the background."""
        read = [(f.filename or "upload", await f.read()) for f in files]
        return await anyio.to_thread.run_sync(lambda: service.upload(read))

    @admin.post("/index/web", response_model=Job, status_code=202)
    def add_web(body: WebSourceRequest) -> Job:
        """Register an article page or an RSS/Atom feed by its address; it is fetched and
        indexed in the background, and again at each rebuild. Private and loopback addresses
        are refused unless the operator sets RAG_WEB_ALLOW_PRIVATE (the job says why)."""
        return service.add_web(body.url)

    @admin.delete(
        "/sources/{source_id:path}",
        response_model=Job,
        status_code=202,
    )
    def delete(source_id: str) -> Job:
        """Remove a source; the index is rebuilt without it in the background."""
        return service.delete_source(source_id)

    @admin.post(
        "/index/rebuild",
        response_model=Job,
        status_code=202,
    )
    def rebuild(
        full: Annotated[bool, Query(description="Re-embed every passage.")] = False,
    ) -> Job:
        """Rescan every registered location and publish a new version, in the background;
        queries are answered from the current version until it is published."""
        return service.rebuild(full)

    app.include_router(admin)
