"""Typed results shared by every door into unspin (library, CLI, service, scan).

The central object is :class:`Analysis`. It is deliberately a plain, frozen
record: everything a human needs to audit a decision (the candidates, their
scores, the channel that proposed each one) is in it, and
:func:`unspin.apply_edits` replays its edits to exactly ``restored_text``.

Offsets are Python ``str`` indices into the *exact* input string, so a caller
can slice ``text[span.start:span.end]`` without any normalisation of its own.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

ANALYSIS_SCHEMA = "unspin.analysis/1"


@dataclass(frozen=True, slots=True)
class Candidate:
    """One possible original for a spun span.

    ``score`` is the total noisy-channel log score of the best sentence
    hypothesis that uses this candidate (natural log), so candidates of one
    span are directly comparable; ``posterior`` is the softmax of those scores
    over the span's candidates (the spun text itself is one of them). In the
    accurate tier the spun text keeps that posterior, and the rest is shared
    among the substitutions by the candidate ranker (``unspin.decode.rerank``).
    """

    text: str
    score: float
    posterior: float
    sources: tuple[str, ...]
    lm_logprob: float = 0.0
    channel_logprob: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "score": round(self.score, 6),
            "posterior": round(self.posterior, 6),
            "sources": list(self.sources),
            "lm_logprob": round(self.lm_logprob, 6),
            "channel_logprob": round(self.channel_logprob, 6),
        }


@dataclass(frozen=True, slots=True)
class Evidence:
    """A fact that supports (or weakens) a flag, in words a reviewer can check.

    ``kind`` is one of a fixed vocabulary: ``channel`` (a thesaurus / learned
    table / fingerprint link), ``lm`` (language-model gain), ``neural`` (the
    accurate tier's neural gain), ``ranker`` (the accurate tier's choice
    among substitutions, and its re-choice with the next words),
    ``continuation`` (the accurate tier's reading of the next words),
    ``posterior``, ``fingerprint``, ``verdict`` and ``family`` (document level),
    ``leaked`` (an original word found in a hashtag or slug), ``signature``
    (spinner boilerplate), ``suspect`` (why a span in ``Analysis.suspects`` was
    not flagged).
    """

    kind: str
    detail: str
    value: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "detail": self.detail, "value": round(self.value, 6)}


#: Shown in place of a restoration for spans flagged with no known original.
NO_ORIGINAL = "(no known original)"


@dataclass(frozen=True, slots=True)
class Span:
    """A flagged span of the input and what the model thinks it was."""

    start: int
    end: int
    text: str
    restored: str
    confidence: float
    candidates: tuple[Candidate, ...]
    evidence: tuple[Evidence, ...] = ()
    listed: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "restored": self.restored,
            "confidence": round(self.confidence, 6),
            "candidates": [c.to_json() for c in self.candidates],
            "evidence": [e.to_json() for e in self.evidence],
            "listed": self.listed,
        }

    def restored_label(self) -> str:
        """What a reader is shown as the restoration: a span flagged without a known
        original (a listed phrase whose list gives none) keeps its text, and saying
        so is clearer than repeating it."""
        return self.restored if self.restored != self.text else NO_ORIGINAL

    def given_spun(self) -> float:
        """A suspect's P(substituted | document spun), from its ``suspect`` evidence line:
        what a reviewer sorts suspects by, since their confidence is held down by the
        document's P(spun). Spans without that line return their confidence."""
        return next((e.value for e in self.evidence if e.kind == "suspect"), self.confidence)


# The complete step vocabulary for edits. Every kind here is replayable by
# apply_edits; there is deliberately no "informational" step it must skip.
EDIT_KINDS = ("replace",)


@dataclass(frozen=True, slots=True)
class Edit:
    """One replayable step: replace ``text[start:end]`` (== ``old``) by ``new``."""

    start: int
    end: int
    old: str
    new: str
    source: str
    confidence: float
    kind: str = "replace"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Skipped:
    """Why a document was not analysed (typed, never ``None`` plus a log line)."""

    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class Analysis:
    """Everything unspin concluded about one text."""

    text: str
    #: Calibrated probability that the text is spun (the document model).
    score: float
    #: ``score >= Config.doc_threshold``.
    spun: bool
    restored_text: str
    spans: tuple[Span, ...]
    edits: tuple[Edit, ...]
    mode: str
    features: dict[str, float] = field(default_factory=dict)
    evidence: tuple[Evidence, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    #: Not flagged, for review: spans the span model alone puts at or above the
    #: operating point, whose confidence (times P(document spun)) falls below it
    #: because the document model is unsure. Lightly spun real copies sit near
    #: P(spun) 0.5, where nothing can be flagged; an investigator still wants to
    #: know where to look. Never edits: ``restored_text`` ignores them.
    suspects: tuple[Span, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": ANALYSIS_SCHEMA,
            "score": round(self.score, 6),
            "spun": self.spun,
            "mode": self.mode,
            "restored_text": self.restored_text,
            "spans": [s.to_json() for s in self.spans],
            "edits": [e.to_json() for e in self.edits],
            "evidence": [e.to_json() for e in self.evidence],
            "features": {k: round(v, 6) for k, v in sorted(self.features.items())},
            "suspects": [s.to_json() for s in self.suspects],
        }
