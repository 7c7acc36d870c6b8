"""The contracts between stages: what ingest, chunk, store and retrieve hand each other."""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

Retriever = Literal["dense", "bm25", "fused", "rerank"]
CheckLayer = Literal["structure", "fast", "judge"]
Problem = Literal["", "out_of_range", "uncited", "fragment", "quote", "number", "unsupported"]


class Contract(BaseModel):
    """Base of every contract: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


def line_problem(where: str, exc: ValidationError) -> str:
    """'file:line: field: what is wrong' for a JSONL line a contract refused (its first error)."""
    problem = exc.errors()[0]
    field = ".".join(str(p) for p in problem["loc"]) or "line"
    return f"{where}: {field}: {problem['msg']}"


def sha256_hex(*parts: str) -> str:
    """Hex sha256 of the parts joined by NUL, so ("ab", "c") and ("a", "bc") differ."""
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()


class Source(Contract):
    """One document as read from a corpus line or a file."""

    id: str = Field(description="Source id: the JSONL id, else the path relative to its root.")
    title: str = Field(description="Title from the corpus, the HTML/PDF metadata or the file name.")
    text: str = Field(description="Main text, normalized to plain paragraphs.")
    url: str | None = Field(None, description="Where the source lives on the web, if known.")
    date: str | None = Field(None, description="Publication date as given by the source.")
    path: str | None = Field(None, description="File the source was read from.")
    content_hash: str = Field(description="sha256 of id, title, text, url and date.")

    @staticmethod
    def hash_of(id: str, title: str, text: str, url: str | None, date: str | None) -> str:
        """The content hash a source with these fields gets."""
        return sha256_hex(id, title, text, url or "", date or "")

    @classmethod
    def create(
        cls,
        id: str,
        title: str,
        text: str,
        url: str | None = None,
        date: str | None = None,
        path: str | None = None,
    ) -> Source:
        """A source with its content hash filled in."""
        return cls(
            id=id,
            title=title,
            text=text,
            url=url,
            date=date,
            path=path,
            content_hash=cls.hash_of(id, title, text, url, date),
        )


class Passage(Contract):
    """A sentence-aligned span of a source: the unit that is embedded, retrieved and cited."""

    id: str = Field(description="Stable id from source id, start offset and text hash.")
    source_id: str = Field(description="Id of the source this passage comes from.")
    ordinal: int = Field(ge=0, description="Position of the passage within its source.")
    start: int = Field(ge=0, description="Offset of the first character in the source text.")
    end: int = Field(ge=0, description="Offset one past the last character in the source text.")
    text: str = Field(description="Exactly source.text[start:end].")
    title: str = Field(description="Title of the source.")


class Hit(Contract):
    """A ranked search result: the passage's fields flat, plus how it was found."""

    rank: int = Field(ge=1, description="1-based rank in the result list.")
    score: float = Field(description="Retriever score: cosine, BM25 or the fused score.")
    retriever: Retriever = Field(description="Which retriever produced the final ranking.")
    source_id: str = Field(description="Id of the source the passage belongs to.")
    passage_id: str = Field(description="Id of the passage.")
    title: str = Field(description="Title of the source.")
    text: str = Field(description="Passage text.")
    start: int = Field(ge=0, description="Offset of the passage in the source text.")
    end: int = Field(ge=0, description="End offset of the passage in the source text.")
    url: str | None = Field(None, description="Source url, if known.")
    date: str | None = Field(None, description="Source date, if known.")
    path: str | None = Field(None, description="File the source was read from, if any.")


class SourceFailure(Contract):
    """A file or corpus line that could not be indexed, and why."""

    path: str = Field(description="File (with ':line' for a corpus line) that failed.")
    reason: str = Field(description="What was wrong with it and, where possible, the fix.")


class SourceCounts(Contract):
    """How the sources of a build compare with the previous version."""

    added: int = Field(0, description="Sources new in this version.")
    changed: int = Field(0, description="Sources whose content hash changed.")
    removed: int = Field(0, description="Sources gone since the previous version.")
    unchanged: int = Field(0, description="Sources carried over as they were.")
    failed: list[SourceFailure] = Field(
        default_factory=list, description="Files or lines skipped, with the reason."
    )


class PassageCounts(Contract):
    """What happened to passages in a build."""

    embedded: int = Field(0, description="Passages run through the encoder in this build.")
    reused: int = Field(0, description="New passages whose vector was reused by text hash.")
    deleted: int = Field(0, description="Passages removed from FAISS, BM25 and SQLite.")
    total: int = Field(0, description="Passages in the published version.")


class BuildReport(Contract):
    """Summary of an `index add` or `index rebuild`, as printed by `--json`."""

    version: int = Field(description="Published version number.")
    index_dir: str = Field(description="Index folder.")
    full: bool = Field(description="Whether every passage was re-embedded.")
    sources: SourceCounts = Field(default_factory=SourceCounts, description="Source counts.")
    passages: PassageCounts = Field(default_factory=PassageCounts, description="Passage counts.")
    seconds: float = Field(0.0, description="Wall time of the build.")


AnswerStatus = Literal["accepted", "repaired", "abstained", "unvalidated"]


class Citation(Contract):
    """A number shown in the answer and the passage behind it."""

    n: int = Field(ge=1, description="The number shown in the answer text, [n].")
    passage_id: str = Field(description="Id of the cited passage.")
    source_id: str = Field(description="Id of the passage's source.")
    title: str = Field(description="Title of the source.")
    url: str | None = Field(None, description="Source url, if known.")
    date: str | None = Field(None, description="Source date, if known.")
    path: str | None = Field(None, description="File the source came from, if any.")
    quote: str = Field(description="The passage sentence that best matches the citing text.")


class SentenceCheck(Contract):
    """The validator's verdict on one sentence of an answer."""

    text: str = Field(description="The sentence as shown.")
    citations: list[int] = Field(default_factory=list, description="Numbers it cites.")
    supported: bool = Field(description="Whether the cited passages support it.")
    score: float = Field(description="Support score in [0, 1].")
    layer: CheckLayer = Field(
        description="What decided: structure (citation form), fast (scored overlap and "
        "similarity) or judge (an LLM asked whether the passage supports the claim)."
    )
    problem: Problem = Field("", description="Kind of failure; empty when supported.")
    reason: str = Field("", description="Why it was judged so.")
    reattributed: bool = Field(
        False,
        description="Its citation was replaced by the given passage that holds it (it had "
        "none, or cited one that does not).",
    )


class ValidationPassage(BaseModel):
    """A numbered passage in a `rag validate` input line; other fields are ignored."""

    n: int = Field(ge=1, description="The number the answer cites it by.")
    text: str = Field(description="Passage text.")
    title: str = Field("", description="Source title, if known.")
    date: str | None = Field(None, description="Source date, if known.")


class ValidationRequest(BaseModel):
    """One `rag validate` input line; other fields (labels, ids) are ignored, not refused."""

    answer: str = Field(description="Answer text with [n] citations.")
    passages: list[ValidationPassage] = Field(description="The passages the [n] point into.")
    question: str = Field("", description="The question answered, if known.")


class Verdict(Contract):
    """The validator's finding on one answer: what `rag validate` prints per line."""

    accepted: bool = Field(description="True only if every claim is cited and supported.")
    problems: list[str] = Field(default_factory=list, description="One line per failed claim.")
    sentences: list[SentenceCheck] = Field(
        default_factory=list, description="Each claim and what the checks found."
    )


class Section(Contract):
    """One numbered body section of an answer."""

    heading: str = Field(description="Section heading, without its number.")
    text: str = Field(description="Section text with [n] markers.")


class CheckedSection(Contract):
    """One section of a fact-check as it is shown, once checked (streamed before the answer)."""

    n: int = Field(ge=1, description="Its number among the answer's sections.")
    heading: str = Field(description="Section heading, without its number.")
    text: str = Field(description="Its checked sentences with [n] markers, as the answer shows.")
    citations: list[Citation] = Field(
        default_factory=list, description="The passages its markers point at."
    )


class AnswerSections(Contract):
    """The fact-check shape: summary, numbered sections, bottom line, limits, follow-ups."""

    summary: str = Field("", description="Executive summary with [n] markers.")
    sections: list[Section] = Field(default_factory=list, description="Numbered body sections.")
    bottom_line: str = Field("", description="The bottom line with [n] markers.")
    limits: str = Field("", description="What the sources cannot settle.")
    follow_ups: list[str] = Field(default_factory=list, description="Follow-up questions.")


class Answer(Contract):
    """A cited answer, as `rag ask --json` prints it."""

    question: str = Field(description="The question asked.")
    text: str = Field(description="The answer as markdown with renumbered [n] markers.")
    sections: AnswerSections = Field(description="The answer parsed into its parts.")
    citations: list[Citation] = Field(default_factory=list, description="Each [n] shown.")
    status: AnswerStatus = Field(
        description="accepted, repaired or abstained once validated; unvalidated before."
    )
    checks: list[SentenceCheck] = Field(default_factory=list, description="Per-sentence checks.")
    dropped_sentences: list[SentenceCheck] = Field(
        default_factory=list,
        description="Sentences of the draft that did not hold up and were cut, with their checks.",
    )
    draft_checks: list[SentenceCheck] = Field(
        default_factory=list,
        description="Per-sentence checks of the model's first draft, before repair or cuts "
        "(how well the model itself cited).",
    )
    repair_rounds: int = Field(0, ge=0, description="Times the draft was sent back to be fixed.")
    hits: list[Hit] = Field(default_factory=list, description="Passages given to the model.")
    dropped_citations: list[int] = Field(
        default_factory=list, description="Numbers the model cited that were not passages."
    )
    model: str = Field(description="litellm model string that wrote the answer.")
    prompt_version: str = Field(description="Prompt name@version+hash.")
    index_version: int = Field(description="Index version the passages came from.")
    checked_on: str = Field(description="Date the answer was produced (YYYY-MM-DD).")
    timings: dict[str, float] = Field(
        default_factory=dict,
        description="Seconds per stage: load, retrieve, first_token, generate (the draft), "
        "repair (rewrites), validate (checking only), total.",
    )
    usage: dict[str, int] = Field(
        default_factory=dict,
        description="prompt_tokens and completion_tokens over the draft and repairs; "
        "judge_calls made while checking.",
    )
    notes: list[str] = Field(
        default_factory=list,
        description="What failed on the way without stopping the answer: a repair request or "
        "the judge that did not answer, a draft cut short for running past the token limit.",
    )
    relevance: float | None = Field(
        None,
        description="The judge's probability that what the sources support answers the "
        "question (below RAG_RELEVANCE_THRESHOLD the answer abstains); None where not checked.",
    )


class GoldQuestion(BaseModel):
    """One gold-set line; extra fields (type, evidence_sentences, ...) are kept and ignored."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(description="Question id, unique in the file.")
    question: str = Field(min_length=1, description="The question asked.")
    answers: list[str] = Field(default_factory=list, description="Accepted gold answers.")
    evidence: list[str] = Field(default_factory=list, description="Source ids that answer it.")
    answerable: bool = Field(True, description="False: the right output is an abstention.")


class EvalRecord(Contract):
    """One question of an evaluation run, as a line of results.jsonl."""

    id: str = Field(description="Gold question id.")
    question: str = Field(description="The question asked.")
    answerable: bool = Field(description="Whether the gold set says it can be answered.")
    gold_answers: list[str] = Field(default_factory=list, description="Accepted gold answers.")
    evidence: list[str] = Field(default_factory=list, description="Gold evidence source ids.")
    ranked_sources: list[str] = Field(
        default_factory=list, description="Source ids of the top retrieved passages, in order."
    )
    retrieval: dict[str, float] = Field(
        default_factory=dict,
        description="recall@1/5/10/20, rr, ndcg@10, all_evidence@10; empty without evidence.",
    )
    answer: Answer | None = Field(None, description="The answer as shown; None if retrieval only.")
    scores: dict[str, float | None] = Field(
        default_factory=dict,
        description="exact_match, f1, contained, claim_recall, abstained, citation_recall, "
        "citation_precision, draft_citation_recall, revalidated; None where not applicable.",
    )
    error: str = Field("", description="Why the question failed; it is retried on resume.")
    seconds: float = Field(0.0, description="Wall time spent on the question.")


class RunInfo(Contract):
    """What an evaluation run was made with (run.json); a resumed run must match it."""

    gold: str = Field(description="Gold file path.")
    gold_sha256: str = Field(description="sha256 of the gold file's bytes.")
    index_dir: str = Field(description="Index folder searched.")
    index_version: int = Field(description="Index version searched.")
    corpus_sha256: str | None = Field(None, description="sha256 of --corpus, if given.")
    retrieval_only: bool = Field(description="Whether answers were skipped.")
    model: str | None = Field(None, description="litellm model that answered, if any.")
    validate_mode: str = Field(description="Validator mode used.")
    search_mode: str = Field(description="Retriever used.")
    answer_k: int = Field(description="Passages given to the model per question.")
    started: str = Field(description="When the run was first started (ISO time).")


ClaimVerdictName = Literal["supported", "contradicted", "not_found"]


class CheckedClaim(Contract):
    """One claim of a checked text and what the sources say of it."""

    n: int = Field(ge=1, description="Position of the claim in the text, from 1.")
    text: str = Field(description="The claim as written in the text (markers removed).")
    verdict: ClaimVerdictName = Field(
        description="supported (a passage holds it), contradicted (a passage says something it "
        "cannot be true with) or not_found (no passage settles it)."
    )
    citations: list[Citation] = Field(
        default_factory=list,
        description="The passages behind the verdict: those that hold the claim (supported) or "
        "the one that contradicts it; none when not found.",
    )
    closest: Citation | None = Field(
        None, description="The closest passage read, when nothing settled the claim."
    )
    score: float = Field(
        description="Support score of the holding passages (supported), else the judge's "
        "strongest P(contradicts) among the passages read (0 without a judge)."
    )
    reason: str = Field(description="Why: the check that decided, in plain words.")


class TextCheck(Contract):
    """A text checked claim by claim against the index (`rag check`, `POST /check`)."""

    claims: list[CheckedClaim] = Field(description="Each checked claim, in the text's order.")
    skipped: list[str] = Field(
        default_factory=list,
        description="Sentences not checked: questions, headings and fragments too short to "
        "state anything.",
    )
    counts: dict[ClaimVerdictName, int] = Field(description="Claims per verdict.")
    summary: str = Field(
        description="The verdict on the whole text as markdown: summary, each claim with its "
        "verdict and citations, bottom line, what the sources cannot settle."
    )
    citations: list[Citation] = Field(
        default_factory=list, description="Each [n] of the summary and its passage."
    )
    index_version: int = Field(description="Index version the passages came from.")
    validate_mode: str = Field(description="How claims were checked: fast, judge or strict.")
    timings: dict[str, float] = Field(
        default_factory=dict, description="Seconds: search, check, total."
    )
    usage: dict[str, int] = Field(default_factory=dict, description="judge_calls.")
