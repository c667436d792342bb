"""The document score: a calibrated probability that the text was spun.

The first decoding pass yields document-level signals: the estimated spin
rate (empirical Bayes over span posteriors), the share of words that surprise
the language model, and the summed span evidence per 100 words; the span
model adds its expected count of substitutions per 100 words
(``SPAN_DOC_FEATURES``). A logistic model over them (``DOC_FEATURES``, and
``SPAN_DOC_FEATURES`` where the tier's model was fitted with them) gives P(spun). It is fitted by
``bench/fit_model.py`` on spun and clean stories of the training split,
separately for each kind of language model, and stored with its provenance
in ``unspin/data/calibration.json``; the benchmark reports the calibration
error on held-out data.

Span confidences are ``P(document spun) * P(span substituted | spun
document)``: a span in a document that looks clean needs much stronger
evidence to be reported, which is what keeps false edits on clean text rare.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from importlib import resources
from typing import Any

from unspin.decode.spanmodel import LogisticModel

DOC_FEATURES = ("doc_rate", "doc_surprise", "evidence_per_100w", "log_words", "max_logit",
                "strong_per_100w")

#: Document signals from the tier's span model (:func:`span_model_features`).
SPAN_DOC_FEATURES = ("given_per_100w", "given_hi_per_100w")


def document_features(n_words: int, span_probs: list[float]) -> dict[str, float]:
    """Document signals from the decoder's span posteriors P(changed).

    ``max_logit`` lets one overwhelming substitution ("dying toll") count in a
    short text, where rates per 100 words are dominated by the prior.
    """
    from unspin.decode.spanmodel import clip_logit

    words = max(1, n_words)
    evidence = sum(span_probs)
    strong = sum(1 for p in span_probs if p >= 0.95)
    return {
        "words": float(n_words),
        "log_words": math.log(words),
        "decisions": float(len(span_probs)),
        "evidence": evidence,
        "evidence_per_100w": 100.0 * evidence / words,
        "max_logit": max((clip_logit(p) for p in span_probs), default=-8.0),
        "strong_per_100w": 100.0 * strong / words,
    }


def span_model_features(n_words: int, given: Sequence[float]) -> dict[str, float]:
    """Document signals from the span model's P(substituted | spun) of every decision.

    The span model was fitted to tell substitutions from the decoder's other
    changes inside spun stories, so its expected count of substitutions per 100
    words separates spun from clean text better than the decoder's raw
    posteriors do, which a strong language model pushes towards 1 on clean text
    too (docs/model.md, "Document model: the span model's count"). The span
    model is fitted on other stories than the document model, so these are not
    its own training labels read back.
    """
    words = max(1, n_words)
    return {
        "given_per_100w": 100.0 * sum(given) / words,
        "given_hi_per_100w": 100.0 * sum(1 for g in given if g >= 0.5) / words,
    }


def untrained_calibration() -> LogisticModel:
    """Before fitting: P(spun) rises with the estimated spin rate (0.03 -> 0.5)."""
    return LogisticModel({"doc_rate": 1.0}, 0.0, {"doc_rate": 0.05}, {"doc_rate": 0.02},
                         "untrained: estimated spin rate only")


#: Flag threshold of a tier that has no fitted operating point.
DEFAULT_OPERATING_POINT = 0.5


def _fitted_entry(kind: str, fallback: str | None) -> dict[str, Any] | None:
    try:
        raw = resources.files("unspin.data").joinpath("calibration.json").read_text("utf-8")
    except (FileNotFoundError, ModuleNotFoundError):
        return None
    models = json.loads(raw).get("models", {})
    data = models.get(kind) or (models.get(fallback) if fallback else None)
    return data if isinstance(data, dict) else None


def default_calibration(kind: str = "default", fallback: str | None = None) -> LogisticModel:
    """The fitted document model for a model key ("default", "kn3", "kn3/screen"...),
    else for ``fallback``."""
    data = _fitted_entry(kind, fallback)
    if not data or "weights" not in data:
        return untrained_calibration()
    return LogisticModel.from_json(data)


def operating_point(kind: str = "default", fallback: str | None = None) -> float:
    """The flag threshold fitted with a model key's models (``bench/fit_model.py``).

    Span confidences of different tiers rank spans on different scales, so one
    threshold for all would give each tier a different false-edit rate on clean
    text; each tier's point is chosen on clean DEV stories instead.
    """
    data = _fitted_entry(kind, fallback)
    value = data.get("flag_threshold") if data else None
    return float(value) if isinstance(value, (int, float)) else DEFAULT_OPERATING_POINT
