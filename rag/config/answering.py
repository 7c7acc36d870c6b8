"""The settings of the stages that answer: search, the model, answers, the validator, `rag eval`
and `rag serve`; each field's alias is the setting's flat name (RAG_<ALIAS>)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator

from rag.config.indexing import LOCAL_LLM, Group, SearchMode, ValidateMode


class SearchSettings(Group):
    """How a question finds passages (rag/retrieve)."""

    k: int = Field(10, alias="search_k", ge=1, le=1000, description="Hits returned by a search.")
    mode: SearchMode = Field(
        "hybrid", alias="search_mode", description="dense, bm25 or hybrid (both, fused)."
    )
    fusion: Literal["score", "rrf"] = Field(
        "score",
        alias="fusion",
        description="How hybrid search fuses dense and BM25: 'score' (each list's scores over "
        "its best, weighted by RAG_DENSE_WEIGHT, summed) or 'rrf' (reciprocal rank). 'score' "
        "won recall@1 and MRR on every QA set measured (docs/retrieval.md).",
    )
    dense_weight: float = Field(
        0.5,
        alias="dense_weight",
        ge=0,
        le=1,
        description="Share of the dense scores in 'score' fusion; BM25 has the rest.",
    )
    fusion_candidates: int = Field(
        100,
        alias="fusion_candidates",
        ge=1,
        description="Candidates each retriever contributes before fusion.",
    )
    rrf_k: int = Field(
        60,
        alias="rrf_k",
        ge=1,
        description="Reciprocal-rank-fusion constant k in 1/(k + rank): 'rrf' fusion, the title "
        "links and decomposed questions.",
    )
    link_hits: int = Field(
        3,
        alias="link_hits",
        ge=0,
        le=20,
        description="Best hybrid hits scanned for other sources' titles; the passages of the "
        "sources they name are ranked by cosine and fused in after those hits, the second hop "
        "of multi-part questions (0 = off).",
    )
    decompose: bool = Field(
        False,
        alias="decompose",
        description="Hybrid search also asks RAG_LLM_MODEL to split the question into up to 3 "
        "search queries and fuses their results (one LLM call per search).",
    )


class LLMSettings(Group):
    """The chat model that writes answers, and how it is called (rag/llm)."""

    model: str = Field(
        LOCAL_LLM,
        alias="llm_model",
        description="litellm model string that writes answers: the embedded "
        "'local/qwen2.5-coder-1.5b-instruct', or any provider's, e.g. 'openai/gpt-4o-mini', "
        "'anthropic/claude-3-5-haiku-latest', 'ollama/llama3.1'.",
    )
    api_base: str | None = Field(
        None,
        alias="llm_api_base",
        description="Base url for an OpenAI-compatible or self-hosted server.",
    )
    timeout: float = Field(
        120.0, alias="llm_timeout", gt=0, description="Seconds before one LLM call is abandoned."
    )
    retries: int = Field(
        3,
        alias="llm_retries",
        ge=0,
        le=10,
        description="Retries after rate limits, timeouts and server errors.",
    )
    max_tokens: int = Field(
        300, alias="llm_max_tokens", ge=16, description="Most tokens an answer may have."
    )
    temperature: float = Field(
        0.1, alias="llm_temperature", ge=0, le=2, description="Sampling temperature."
    )


class AnswerSettings(Group):
    """What the model is shown and how a failing draft is handled (rag/answer)."""

    k: int = Field(
        4, alias="answer_k", ge=1, le=20, description="Passages given to the model per question."
    )
    passage_words: int = Field(
        36,
        alias="passage_words",
        ge=20,
        description="Words of each passage shown to the model: the sentences closest to the "
        "question, in order (shorter prompts answer faster on a CPU).",
    )
    repair_rounds: int = Field(
        1,
        alias="repair_rounds",
        ge=0,
        le=3,
        description="Times a draft with unsupported claims is sent back to the model with the "
        "list of failures before unsupported sentences are dropped.",
    )
    max_question_chars: int = Field(
        2000,
        alias="max_question_chars",
        ge=1,
        description="Longest question accepted, in characters.",
    )
    compose: Literal["sections", "single"] = Field(
        "sections",
        alias="compose",
        description="How an answer is written: 'sections' plans aspects from wide retrieval and "
        "writes and checks one section at a time, then the summary from what held; 'single' "
        "writes the whole answer from the best RAG_ANSWER_K passages in one draft.",
    )
    wide_k: int = Field(
        24,
        alias="wide_k",
        ge=1,
        le=200,
        description="Passages retrieved for a fact-check before evidence is chosen from them.",
    )
    evidence: int = Field(
        12,
        alias="evidence_passages",
        ge=1,
        le=60,
        description="Passages chosen as evidence for a fact-check, across distinct sources.",
    )
    per_source: int = Field(
        2,
        alias="per_source",
        ge=1,
        description="Most evidence passages taken from one source.",
    )
    section_passages: int = Field(
        2,
        alias="section_passages",
        ge=1,
        le=9,
        description="Most passages one section is written from.",
    )
    aspects: Literal["vectors", "model"] = Field(
        "vectors",
        alias="aspects",
        description="How evidence is grouped into sections: 'vectors' joins passages whose "
        "vectors are alike (no model call); 'model' asks the model in one short call over the "
        "passages' titles and key sentences. Vectors by default: measured as good for less time "
        "(docs/answers.md).",
    )
    max_sections: int = Field(
        6, alias="max_sections", ge=1, le=12, description="Most sections in a fact-check."
    )
    section_words: int = Field(
        90,
        alias="section_words",
        ge=20,
        description="Words of each passage a section's prompt shows: whole sentences closest "
        "to the question, in order.",
    )
    section_tokens: int = Field(
        220,
        alias="section_tokens",
        ge=32,
        description="Most tokens the model writes for one section (and for the summary).",
    )
    section_grammar: bool = Field(
        False,
        alias="section_grammar",
        description="Hold each section to its shape with a grammar where the model follows "
        "one (the embedded engine): a heading, then sentences that each end with citations of "
        "the section's own passages. Off by default: measured slower and shorter, and "
        "re-attribution gives the uncited sentences it prevents their passage (docs/answers.md).",
    )


class ValidatorSettings(Group):
    """How claims are checked against their passages (rag/validate)."""

    mode: ValidateMode = Field(
        "judge",
        alias="validate_mode",
        description="How claims are checked: fast (scored overlap and similarity only), judge "
        "(the fast layer settles clear cases, an LLM judge the unsure ones) or strict (the "
        "judge must also confirm every claim the fast layer would pass).",
    )
    support_threshold: float = Field(
        0.7,
        alias="support_threshold",
        ge=0,
        le=1,
        description="Fast-layer score at or above which a claim counts as supported when no "
        "judge is used (chosen on the labeled drafts of two sets, confirmed on the others and "
        "the dev set: docs/validator.md).",
    )
    support_accept: float = Field(
        0.85,
        alias="support_accept",
        ge=0,
        le=1,
        description="Fast-layer score at or above which a claim is supported without the judge.",
    )
    support_reject: float = Field(
        0.7,
        alias="support_reject",
        ge=0,
        le=1,
        description="Fast-layer score below which a claim is unsupported without the judge (at "
        "the fast threshold: below it the judge accepted bad draft claims the fast layer "
        "rejects, docs/validator.md).",
    )
    judge_model: str | None = Field(
        None,
        alias="judge_model",
        description="litellm model string of the support judge; unset uses RAG_LLM_MODEL.",
    )
    judge_threshold: float = Field(
        0.5,
        alias="judge_threshold",
        ge=0,
        le=1,
        description="Judge probability of 'Yes' at or above which a claim counts as supported.",
    )
    relevance_threshold: float = Field(
        0.5,
        alias="relevance_threshold",
        ge=0,
        le=1,
        description="The judge's probability that the shown answer gives what the question asks "
        "for, below which it abstains (its supported sentences still shown); 0 turns the check "
        "off. Not in fast mode, which has no judge.",
    )
    closest_sentence: bool = Field(
        True,
        alias="closest_sentence",
        description="Where the relevance check reads the drafted summary as not answering, "
        "give the passage sentence closest to the question, word for word, as the summary if "
        "the judge reads it as answering (at RAG_CLOSEST_THRESHOLD), instead of abstaining.",
    )
    closest_threshold: float = Field(
        0.65,
        alias="closest_threshold",
        ge=0,
        le=1,
        description="The judge's probability that the closest passage sentence answers the "
        "question at or above which it stands as the summary (chosen on SQuAD 2.0's first "
        "30 + 30 questions, confirmed on the others: docs/validator.md).",
    )
    premise_check: bool = Field(
        True,
        alias="premise_check",
        description="Abstain when the question takes for granted what the passages given say "
        "otherwise or not at all: a number or name none holds, a word the closest sentence "
        "says otherwise ('right turn' of a 'left turn'). Lexical, every mode.",
    )
    premise_threshold: float = Field(
        0.4,
        alias="premise_threshold",
        ge=0,
        le=1,
        description="The judge's probability that the passage sentence closest to the question "
        "and the shown summary say what the question takes for granted, below which the "
        "answer abstains; 0 turns the check off. Not in fast mode (chosen on the SQuAD 2.0 "
        "runs of questions read while writing checks, confirmed on others: docs/validator.md).",
    )
    premise_restated_threshold: float = Field(
        0.0,
        alias="premise_restated_threshold",
        ge=0,
        le=1,
        description="The premise read's threshold where the closest passage sentence restates "
        "the question (holds RAG_PREMISE_RESTATED_SHARE of its word stems); 0: the general "
        "one. Off: fresh runs lost gold answers to 0.7 (docs/validator.md).",
    )
    premise_restated_share: float = Field(
        0.8,
        alias="premise_restated_share",
        ge=0,
        le=1,
        description="The share of the question's word stems its closest passage sentence must "
        "hold for RAG_PREMISE_RESTATED_THRESHOLD to apply (1: all of them).",
    )
    asked_check: bool = Field(
        True,
        alias="asked_check",
        description="Abstain when the answer's summary does not give the kind of thing asked "
        "('how many': a number; 'what year': a year; 'when': a time), or opens with a word "
        "pointing to what it does not name ('It was founded by ...'). Lexical, every mode.",
    )

    @model_validator(mode="after")
    def _thresholds_agree(self) -> ValidatorSettings:
        if not self.support_reject <= self.support_threshold <= self.support_accept:
            raise ValueError(
                "support thresholds must satisfy support_reject <= support_threshold <= "
                "support_accept"
            )
        return self


class CheckSettings(Group):
    """How `rag check` verifies a text against the index (rag/check)."""

    k: int = Field(
        8,
        alias="check_k",
        ge=1,
        le=50,
        description="Passages searched for each claim of a checked text.",
    )
    max_claims: int = Field(
        60,
        alias="check_max_claims",
        ge=1,
        description="Most claims of one text checked; a longer text is refused with its count.",
    )
    support_reject: float = Field(
        0.5,
        alias="check_support_reject",
        ge=0,
        le=1,
        description="Fast-layer score below which a checked claim is not held without asking "
        "the judge (RAG_SUPPORT_REJECT's part for answers). People say a passage's facts in "
        "their own words: 0.5 was chosen on HotpotQA and confirmed on SQuAD 2.0 "
        "(docs/validator.md).",
    )
    contradict_threshold: float = Field(
        0.8,
        alias="contradict_threshold",
        ge=0,
        le=1,
        description="P(contradicts) from the judge at or above which a passage contradicts a "
        "claim no passage supports. 0.8: with the embedded judge 0.6 already accused a true "
        "claim on SQuAD 2.0 (docs/validator.md); a stronger judge is read the same way.",
    )


class EvaluateSettings(Group):
    """How `rag eval` runs (rag/evaluate)."""

    workers: int | None = Field(
        None,
        alias="eval_workers",
        ge=1,
        le=64,
        description="Questions `rag eval` answers at once; unset: as many as the model serves "
        "at once (1 for the embedded model, 4 for a provider), 1 for retrieval only.",
    )


class ServeSettings(Group):
    """What `rag serve` allows (rag/serve)."""

    admin_token: SecretStr | None = Field(
        None,
        alias="admin_token",
        description="Bearer token for the server's endpoints that change the index (upload, "
        "delete, rebuild); unset disables them.",
    )
    api_token: SecretStr | None = Field(
        None,
        alias="api_token",
        description="Bearer token the OpenAI-compatible endpoints (/v1/...) require; the admin "
        "token is accepted too. Unset: they are open, as /ask is.",
    )
    models: list[str] = Field(
        default_factory=list,
        alias="server_models",
        description="Further litellm model strings a client of `rag serve` may ask for (JSON "
        "list, e.g. '[\"openai/gpt-4o-mini\"]'); RAG_LLM_MODEL is always allowed.",
    )
    max_upload_mb: float = Field(
        20.0,
        alias="max_upload_mb",
        gt=0,
        description="Largest upload (all files of one request) the server accepts.",
    )
    rate_limit_per_minute: int = Field(
        120,
        alias="rate_limit_per_minute",
        ge=0,
        description="API requests one client (IP address) may make per minute, in bursts of up "
        "to the same number; 0 turns the limit off.",
    )
