"""A text -> claims -> for each, the index searched and the validator asked: does a retrieved
passage hold it (supported), say something it cannot be true with (contradicted), or neither
(not found) -> a TextCheck with the verdict on the whole text in the fact-check shape.

Support is decided as for an answer's sentences: the claim is cited to the retrieved passage
(or pair) the lexical layer ranks best and checked in full (fast layer, judge where unsure),
so "supported" means what an accepted answer's [n] means. Only a claim no passage holds is read
for contradiction, by the judge, against the passages most about the same thing.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rag.answer.answerer import open_validator
from rag.answer.assemble import citation
from rag.answer.reattribute import reattribute
from rag.config import CheckSettings, Settings
from rag.embed import Embedder
from rag.embed.encoder import load_embedder
from rag.errors import ConfigError
from rag.llm.model import ModelFactory
from rag.llm.providers import open_model
from rag.retrieve.search import Searcher, open_searcher
from rag.text import cited_text, markers, strip_markers
from rag.types import (
    CheckedClaim,
    Citation,
    ClaimVerdictName,
    Hit,
    SentenceCheck,
    TextCheck,
)
from rag.validate.claims import is_fragment, split_claims
from rag.validate.support import measure
from rag.validate.validator import CheckRun, Validator

OnClaim = Callable[[CheckedClaim], None]
_READ_FOR_CONTRADICTION = 2  # passages the judge reads for a claim no passage holds
VERDICT_WORDS: dict[ClaimVerdictName, str] = {
    "supported": "Supported",
    "contradicted": "Contradicted",
    "not_found": "Not found in the sources",
}


def claims_of(text: str) -> tuple[list[str], list[str]]:
    """(claims, skipped): the text's sentences that state something, and the rest (headings,
    questions, fragments).

    >>> claims_of("# Police\\nThe chief spoke on Monday. Why? The roof leaked badly [2]. Yes.")
    (['The chief spoke on Monday.', 'The roof leaked badly.'], ['Police', 'Why?', 'Yes.'])
    """
    claims: list[str] = []
    skipped: list[str] = []
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            heading = line.strip("# \t")
            if heading:
                skipped.append(heading)
            continue
        for claim in split_claims(line):
            plain = " ".join(strip_markers(claim.text).split())
            if not plain:
                continue
            if plain.endswith("?") or is_fragment(plain):
                skipped.append(plain)
            else:
                claims.append(plain)
    return claims, skipped


class TextChecker:
    """Checks texts against one index version with one validator."""

    def __init__(self, settings: CheckSettings, searcher: Searcher, validator: Validator) -> None:
        self.settings = settings
        self.searcher = searcher
        self.validator = validator.reading(settings.support_reject)

    def check(self, text: str, on_claim: OnClaim | None = None) -> TextCheck:
        """Every claim of `text` checked, each reported to `on_claim` as it is settled."""
        started = time.perf_counter()
        claims, skipped = claims_of(text)
        if not claims:
            raise ConfigError(
                "the text states nothing to check (no sentence of four words or more that is "
                "not a question or a heading); give a claim such as 'The council voted on "
                "December 11.'"
            )
        if len(claims) > self.settings.max_claims:
            raise ConfigError(
                f"the text has {len(claims)} claims, more than the {self.settings.max_claims} "
                "checked at once; check it in parts, or raise RAG_CHECK_MAX_CLAIMS"
            )
        run = CheckRun()
        searching = 0.0
        checked: list[tuple[CheckedClaim, list[Hit]]] = []
        for n, claim in enumerate(claims, start=1):
            began = time.perf_counter()
            hits = self.searcher.search(claim, k=self.settings.k)
            searching += time.perf_counter() - began
            result, used = self._one(n, claim, hits, run)
            checked.append((result, used))
            if on_claim is not None:
                on_claim(result)
        report = numbered(checked)
        total = time.perf_counter() - started
        return report.model_copy(
            update={
                "skipped": skipped,
                "index_version": self.searcher.reader.version,
                "validate_mode": self.validator.settings.mode,
                "timings": {
                    "search": round(searching, 3),
                    "check": round(total - searching, 3),
                    "total": round(total, 3),
                },
                "usage": {"judge_calls": run.judge_calls},
            }
        )

    def _one(
        self, n: int, claim: str, hits: list[Hit], run: CheckRun
    ) -> tuple[CheckedClaim, list[Hit]]:
        """The claim's verdict, with its citations numbered by position in `hits` (1..k) for
        now, and the hits they point at."""
        passages = {i: cited_text(h.title, h.text, h.date) for i, h in enumerate(hits, start=1)}
        uncited = SentenceCheck(
            text=claim, citations=[], supported=False, score=0.0, layer="structure"
        )
        held = reattribute(uncited, passages, self.validator, run) if passages else None
        if held is not None:
            reason = f"held by {markers(held.citations)}: {held.reason}"
            return self._claim(
                n, claim, "supported", held.citations, hits, held.score, reason
            ), hits
        # Read for contradiction: the passages most about the same thing, numbers aside; all
        # of them, so the score is the strongest contradiction found.
        ranked = sorted(passages, key=lambda i: (-measure(claim, [passages[i]]).coverage, i))
        read = {}
        for i in ranked[:_READ_FOR_CONTRADICTION]:
            probability = self.validator.contradicts(claim, passages[i], run)
            if probability is None:
                break
            read[i] = probability
        worst = max(read, key=lambda i: read[i], default=None)
        best = read[worst] if worst is not None else 0.0
        if worst is not None and best >= self.settings.contradict_threshold:
            reason = f"judge: P(contradicted by [{worst}]) = {best:.2f}"
            return self._claim(n, claim, "contradicted", [worst], hits, best, reason), hits
        if run.judge_failure is not None:
            reason = f"not settled: the judge failed ({run.judge_failure})"
        elif self.validator.contradiction is None:
            reason = "no retrieved passage holds it (contradiction needs the judge: fast mode)"
        else:
            reason = f"no retrieved passage holds it; none contradicts it (best P = {best:.2f})"
        result = self._claim(n, claim, "not_found", [], hits, best, reason)
        closest = citation(1, hits[ranked[0] - 1], [claim]) if ranked else None
        return result.model_copy(update={"closest": closest}), hits

    def _claim(
        self,
        n: int,
        claim: str,
        verdict: ClaimVerdictName,
        numbers: list[int],
        hits: list[Hit],
        score: float,
        reason: str,
    ) -> CheckedClaim:
        return CheckedClaim(
            n=n,
            text=claim,
            verdict=verdict,
            citations=[citation(i, hits[i - 1], [claim]) for i in numbers],
            score=round(score, 3),
            reason=reason,
        )


def numbered(checked: list[tuple[CheckedClaim, list[Hit]]]) -> TextCheck:
    """The claims with their citations numbered across the whole check (by first use, one
    number per passage), and the summary in the fact-check shape."""
    order: dict[str, int] = {}
    shown: list[Citation] = []
    claims: list[CheckedClaim] = []
    for claim, _ in checked:
        renumbered = []
        for cited in claim.citations:
            if cited.passage_id not in order:
                order[cited.passage_id] = len(order) + 1
                shown.append(cited.model_copy(update={"n": order[cited.passage_id]}))
            renumbered.append(cited.model_copy(update={"n": order[cited.passage_id]}))
        claims.append(claim.model_copy(update={"citations": renumbered}))
    counts: dict[ClaimVerdictName, int] = {"supported": 0, "contradicted": 0, "not_found": 0}
    for claim in claims:
        counts[claim.verdict] += 1
    return TextCheck(
        claims=claims,
        counts=counts,
        summary=summary_of(claims, counts),
        citations=shown,
        index_version=0,
        validate_mode="",
    )


def summary_of(claims: list[CheckedClaim], counts: dict[ClaimVerdictName, int]) -> str:
    """The verdict on the whole text as markdown.

    >>> c = CheckedClaim(n=1, text="The roof leaked.", verdict="not_found", score=0, reason="r")
    >>> print(summary_of([c], {"supported": 0, "contradicted": 0, "not_found": 1}))
    ## Summary
    Of 1 claim checked: 0 supported by the sources, 0 contradicted, 1 not found in them.
    <BLANKLINE>
    ## Claims
    1. The roof leaked. **Not found in the sources**.
    <BLANKLINE>
    ## Bottom line
    The sources neither hold nor contradict this text.
    <BLANKLINE>
    ## What the sources cannot settle
    - The roof leaked.
    <BLANKLINE>
    """
    total = len(claims)
    lines = [
        "## Summary",
        f"Of {total} claim{'s' if total != 1 else ''} checked: {counts['supported']} supported "
        f"by the sources, {counts['contradicted']} contradicted, {counts['not_found']} not "
        "found in them.",
        "",
        "## Claims",
    ]
    for claim in claims:
        marks = markers([c.n for c in claim.citations])
        word = VERDICT_WORDS[claim.verdict]
        lines.append(f"{claim.n}. {claim.text} **{word}**" + (f" {marks}." if marks else "."))
    lines += ["", "## Bottom line", bottom_line(counts, total)]
    missing = [c.text for c in claims if c.verdict == "not_found"]
    if missing:
        lines += ["", "## What the sources cannot settle", *(f"- {t}" for t in missing)]
    return "\n".join(lines) + "\n"


def bottom_line(counts: dict[ClaimVerdictName, int], total: int) -> str:
    """The verdict on the whole text, from its claims' verdicts."""
    if counts["contradicted"]:
        return (
            f"Contradicted in part: the sources say otherwise on {counts['contradicted']} of "
            f"{total} claims."
        )
    if counts["supported"] == total:
        return "Supported: the sources hold every claim of this text."
    if counts["supported"]:
        return (
            f"Partly supported: the sources hold {counts['supported']} of {total} claims and do "
            "not settle the rest."
        )
    return "The sources neither hold nor contradict this text."


def open_checker(
    settings: Settings,
    embedder: Embedder | None = None,
    models: ModelFactory = open_model,
    on_progress: Callable[[str], None] | None = None,
) -> TextChecker:
    """A checker over the current index version, with the configured validator (its judge is
    RAG_JUDGE_MODEL, default RAG_LLM_MODEL, opened through `models`; none in fast mode)."""
    say = on_progress or (lambda message: None)
    say("opening the index and loading the embedding model")
    searcher = open_searcher(settings, embedder, models=models)
    if settings.validator.mode != "fast":
        judge = settings.validator.judge_model or settings.llm.model
        say(f"loading the judge {judge} (a first run prepares it once: seconds more)")
    validator = open_validator(
        settings, searcher.embedder or embedder or load_embedder(settings), models
    )
    return TextChecker(settings.check, searcher, validator)
