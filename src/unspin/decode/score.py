"""The document score: a calibrated probability that the text was spun.

The decoder's span posteriors are summed into one evidence feature,
``evidence = sum of P(changed) over flagged spans per 100 words``, and mapped
through a logistic curve ``P(spun) = sigmoid(a + b * log1p(evidence))``.
``a`` and ``b`` are fitted by ``bench/fit_channel.py`` (logistic regression on
spun and clean stories of the training split) and stored with their provenance
in ``unspin/data/calibration.json``; the benchmark reports the calibration
error on held-out data.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class Calibration:
    a: float = -4.0
    b: float = 3.0
    provenance: str = "defaults"

    def probability(self, features: dict[str, float]) -> float:
        z = self.a + self.b * math.log1p(features.get("evidence_per_100w", 0.0))
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        ez = math.exp(z)
        return ez / (1.0 + ez)

    def to_json(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "provenance": self.provenance}


def document_features(n_words: int, span_probs: list[float]) -> dict[str, float]:
    words = max(1, n_words)
    evidence = sum(span_probs)
    return {
        "words": float(n_words),
        "flagged_spans": float(len(span_probs)),
        "evidence": evidence,
        "evidence_per_100w": 100.0 * evidence / words,
        "flagged_per_100w": 100.0 * len(span_probs) / words,
    }


def default_calibration(kind: str = "default") -> Calibration:
    """The fitted calibration for a kind of LM ("default" or "kn3")."""
    try:
        raw = resources.files("unspin.data").joinpath("calibration.json").read_text("utf-8")
    except (FileNotFoundError, ModuleNotFoundError):
        return Calibration()
    data = json.loads(raw).get("models", {}).get(kind)
    if not data:
        return Calibration()
    return Calibration(float(data["a"]), float(data["b"]), str(data.get("provenance", "")))
