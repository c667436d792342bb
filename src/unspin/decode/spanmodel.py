"""The flag decision: a log-linear model over noisy-channel features.

The lattice decoder (``lattice.py``) chooses the best original for every
span; this model decides which of those choices to *report*, and with what
confidence. Its inputs are the noisy channel's own quantities, kept apart so
their weights can be fitted: the channel posterior, the language-model gain
of the candidate over the spun text, how surprising the spun word is in
context and on its own, the thesaurus pick probability and which kind of link
proposed it, and two document-level signals (how much of the document
surprises the LM, the estimated spin rate). This is the log-linear
generalisation of the noisy channel that machine translation uses: the same
two models, with weights tuned on data instead of fixed at one.

Weights are fitted by ``bench/fit_model.py`` with L2-regularised logistic
regression on decisions from synthetic spins (profiles a, b, d of the
training split) and clean training stories, separately for each kind of
language model (the default web bigram model and user-built Kneser-Ney
trigram models score differently). They ship in ``unspin/data/span_model.json``
with the command and data hash that produced them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

FEATURES = (
    "nc_logit",  # logit of the noisy-channel posterior P(changed), clipped
    "lm_gain",  # LM log-prob gain of the chosen candidate over the spun text
    "spun_ctx_lp",  # lowest in-context log-prob among the spun words
    "spun_uni_lp",  # mean unigram log-prob of the spun words
    "cand_uni_lp",  # mean unigram log-prob of the candidate's words
    "pick",  # channel log P(pick spun | original)
    "n_sources",  # thesauri agreeing on the link
    "reverse",  # only a reverse link
    "inflected",  # found through a lemma
    "learned",  # proposed by a learned table
    "fingerprint",  # proposed by a fingerprint list
    "lm_only",  # proposed only by the language model (no thesaurus link)
    "capitalised",  # spun span starts with a capital
    "span_len",  # spun tokens
    "cand_len",  # candidate tokens
    "next_ctx_lp",  # log-prob of the word after the span in the spun context ("dying toll")
    "alt_margin",  # posterior of the best candidate minus the runner-up's
    "spun_fanin",  # log(1 + originals the thesauri link to the spun text)
    "n_alts",  # log(1 + candidates that competed)
    "doc_surprise",  # share of the document's words that surprise the LM
    "doc_rate",  # estimated spin rate of the document
)


def clip_logit(p: float, bound: float = 8.0) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return max(-bound, min(bound, math.log(p / (1 - p))))


@dataclass(frozen=True)
class LogisticModel:
    """A logistic model over named, standardised features (spans or documents)."""

    weights: dict[str, float] = field(default_factory=dict)
    bias: float = 0.0
    means: dict[str, float] = field(default_factory=dict)
    scales: dict[str, float] = field(default_factory=dict)
    provenance: str = "untrained: uses the noisy-channel posterior alone"

    def probability(self, feats: dict[str, float]) -> float:
        if not self.weights:
            nc = feats.get("nc_logit", 0.0)
            return 1.0 / (1.0 + math.exp(-nc))
        z = self.bias
        for name, w in self.weights.items():
            x = (feats.get(name, 0.0) - self.means.get(name, 0.0)) / self.scales.get(name, 1.0)
            z += w * x
        z = max(-30.0, min(30.0, z))
        return 1.0 / (1.0 + math.exp(-z))

    def to_json(self) -> dict[str, Any]:
        return {"weights": self.weights, "bias": self.bias, "means": self.means,
                "scales": self.scales, "provenance": self.provenance}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> LogisticModel:
        return cls(dict(d.get("weights", {})), float(d.get("bias", 0.0)),
                   dict(d.get("means", {})), dict(d.get("scales", {})),
                   str(d.get("provenance", "")))


def fit_logistic(rows: Sequence[dict[str, float]], labels: Sequence[int], l2: float = 1.0,
                 names: Sequence[str] = FEATURES, provenance: str = "") -> LogisticModel:
    """L2-regularised logistic regression by Newton's method (numpy only)."""
    import numpy as np

    x = np.array([[r.get(n, 0.0) for n in names] for r in rows], dtype=float)
    y = np.array(labels, dtype=float)
    means = x.mean(axis=0)
    scales = x.std(axis=0)
    scales[scales < 1e-9] = 1.0
    xs = (x - means) / scales
    xb = np.hstack([np.ones((len(xs), 1)), xs])
    w = np.zeros(xb.shape[1])
    reg = l2 * np.eye(xb.shape[1])
    reg[0, 0] = 0.0
    for _ in range(50):
        z = np.clip(xb @ w, -30, 30)
        p = 1.0 / (1.0 + np.exp(-z))
        grad = xb.T @ (p - y) + reg @ w
        hess = (xb * (p * (1 - p))[:, None]).T @ xb + reg
        step = np.linalg.solve(hess, grad)
        w -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    return LogisticModel({n: float(v) for n, v in zip(names, w[1:], strict=True)}, float(w[0]),
                     {n: float(v) for n, v in zip(names, means, strict=True)},
                     {n: float(v) for n, v in zip(names, scales, strict=True)}, provenance)


#: Tiers with their own fitted models: the two n-gram decoding modes, and the
#: accurate tier (full mode re-ranked by the neural LM, with its own features).
TIERS = ("full", "screen", "neural")


def model_key(kind: str, tier: str) -> str:
    """Key of a fitted model: the LM kind, plus "/screen" or "/neural" for those tiers."""
    return kind if tier == "full" else f"{kind}/{tier}"


def load_span_models() -> dict[str, LogisticModel]:
    try:
        raw = resources.files("unspin.data").joinpath("span_model.json").read_text("utf-8")
    except (FileNotFoundError, ModuleNotFoundError):
        return {}
    data = json.loads(raw)
    return {k: LogisticModel.from_json(v) for k, v in data.get("models", {}).items()}
