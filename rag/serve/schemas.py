"""The contracts of the HTTP service: request and response bodies besides Answer and Hit."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from rag.config import ValidateMode
from rag.types import BuildReport, Contract, Hit, Passage, SourceFailure

JobKind = Literal["rebuild", "upload", "delete", "web"]
JobStateName = Literal["queued", "running", "done", "failed"]


class AskRequest(Contract):
    """`POST /ask`."""

    question: str = Field(description="The question, in plain words.")
    k: int | None = Field(
        None, ge=1, le=20, description="Passages given to the model (RAG_ANSWER_K if unset)."
    )
    model: str | None = Field(
        None,
        description="litellm model string; RAG_LLM_MODEL or one of RAG_SERVER_MODELS (unset: "
        "RAG_LLM_MODEL).",
    )


class CheckRequest(Contract):
    """`POST /check`."""

    text: str = Field(
        description="A claim, a paragraph or an article; each sentence that states something "
        "is checked."
    )


class WebSourceRequest(Contract):
    """`POST /index/web`."""

    url: str = Field(
        description="An http(s) address of an article page or an RSS/Atom feed; registered, so "
        "each rebuild fetches what is new."
    )


class SearchResponse(Contract):
    """`GET /search`."""

    query: str = Field(description="The query as searched.")
    k: int = Field(description="Hits asked for.")
    index_version: int = Field(description="Index version the hits come from.")
    hits: list[Hit] = Field(description="Passages, best first.")


class _SourceFields(Contract):
    id: str = Field(description="Source id.")
    title: str = Field(description="Title.")
    url: str | None = Field(None, description="Web address, if known.")
    date: str | None = Field(None, description="Publication date, if known.")


class SourceSummary(_SourceFields):
    """One source in `GET /sources`."""

    passages: int = Field(description="Passages the source was cut into.")


class SourceList(Contract):
    """`GET /sources`: one page of sources, sorted by id."""

    index_version: int = Field(description="Index version listed.")
    total: int = Field(description="Sources in the index.")
    offset: int = Field(description="Position of the first source listed.")
    limit: int = Field(description="Most sources listed.")
    sources: list[SourceSummary] = Field(description="The page of sources.")


class SourceDetail(_SourceFields):
    """`GET /sources/{id}`: a source with its passages."""

    index_version: int = Field(description="Index version read.")
    passages: list[Passage] = Field(description="Passages in order.")


class ErrorBody(Contract):
    """Every error the service returns: a stable code for programs, a message for people."""

    code: str = Field(description="Machine-readable error code, e.g. 'unauthorized'.")
    message: str = Field(description="What went wrong and what to do about it.")


class Job(Contract):
    """A change to the index run in the background, one at a time."""

    id: int = Field(description="Job number, from 1 in this server's life.")
    kind: JobKind = Field(
        description="What asked for it: rebuild, upload, delete or web (an address registered)."
    )
    state: JobStateName = Field(description="queued, running, done or failed.")
    full: bool = Field(False, description="Re-embed everything instead of what changed.")
    submitted_at: str = Field(description="When it was asked for (UTC, ISO 8601).")
    started_at: str | None = Field(None, description="When it started.")
    finished_at: str | None = Field(None, description="When it finished or failed.")
    task: str | None = Field(None, description="What it is doing now, e.g. 'embedding passages'.")
    done: int = Field(0, description="Items of the current task done.")
    total: int = Field(0, description="Items of the current task in all.")
    report: BuildReport | None = Field(None, description="The build's report once done.")
    error: str | None = Field(None, description="Why it failed.")


class IndexState(Contract):
    """`GET /index`: the version being served and the background jobs."""

    index_version: int | None = Field(description="Version answering queries (None: no index).")
    sources: int = Field(description="Sources in that version.")
    passages: int = Field(description="Passages in that version.")
    building: bool = Field(description="A job is queued or running.")
    jobs: list[Job] = Field(description="Recent jobs, newest first.")


class UploadResult(Contract):
    """`POST /sources`: files kept and the build job that indexes them."""

    saved: list[str] = Field(description="File names stored in the index's uploads folder.")
    sources: int = Field(description="Sources read from the files.")
    skipped: list[SourceFailure] = Field(
        default_factory=list, description="Lines or files that could not be read, with why."
    )
    job: Job = Field(description="The build that will index them.")


class Health(Contract):
    """`GET /healthz`: ready when the models are loaded and an index version is served."""

    state: Literal["ok", "no_index", "starting"] = Field(description="Overall state.")
    ready: bool = Field(description="Whether /ask and /search can answer.")
    index_dir: str = Field(description="Index folder served.")
    index_version: int | None = Field(description="Version being served.")
    sources: int = Field(description="Sources in that version.")
    passages: int = Field(description="Passages in that version.")
    embed_model: str = Field(description="Embedding model id.")
    llm_model: str = Field(description="Default model that writes answers.")
    models: list[str] = Field(description="Models a client may ask for.")
    validate_mode: ValidateMode = Field(description="How claims are checked.")
    admin: bool = Field(description="Whether the index-changing endpoints are enabled.")
    problem: str | None = Field(None, description="Why the newest index version is not served.")
