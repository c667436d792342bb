"""Which original, once a span is judged substituted: the candidate ranker.

The accurate tier (``decode/rescore.py``) adds three log-scores per candidate
original: the n-gram model's context score, the channel's pick probability
and the neural model's left-context gain. Their sum decides *whether* a span
was substituted (the span model corrects that downstream); *which* candidate
wins is a separate question, and the fixed weights may be wrong for it: on
DEV news spins the shipped web-count n-gram model deserves less weight, LM
proposals are underrated by their similarity-based channel score, and a
multiword candidate is overrated by the neural model's first-token score.

So the choice among substitutions is a conditional logit over a few features
of each candidate: P(original = c | substituted) = softmax_c(w . f(c)).
P(substituted) stays the noisy-channel posterior of keeping the spun text,
so each candidate's posterior is P(substituted) x P(c | substituted).
``bench/fit_ranker.py`` fits w by maximum likelihood on spun DEV stories and
writes ``unspin/data/ranker.json``, which the bundle loads if present.

No fitted ranker ships: the fit improved the choice on news spins (held-out
profile c top-1 0.695 -> 0.746 with the default LM) but restored fewer
tortured phrases of the PPS list, whose evidence is a short collocation the
fitted weights discount (docs/model.md, "A ranker for the choice among
substitutions"). Without one, the weights reproduce the fixed sum (n-gram 1,
channel ``channel_weight``, neural 1): the tier ranks exactly as the sum does.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from unspin.candidates.generate import Proposal
from unspin.resources.thesauri import THESAURI

__all__ = ["RANK_FEATURES", "Ranker", "fit_ranker", "load_rankers", "rank_features", "top1"]

#: Features of one candidate original (see :func:`rank_features`).
RANK_FEATURES = (
    "ngram_gain",  # n-gram context score of the candidate minus the spun text's
    "pick",  # channel: log P(pick spun | original substituted)
    "nn_gain",  # neural: log P_nn(first token | left) minus the spun text's
    "lm_proposal",  # proposed by a language model (no thesaurus link)
    "thesauri",  # how many thesauri link the pair
    "learned",  # in a learned substitution table
    "fingerprint",  # in a fingerprint list
    "reverse",  # only a reverse thesaurus link supports it
    "inflected",  # found through a lemma and re-inflected
    "extra_words",  # words beyond the first (the neural gain sees only the first token)
)

def rank_features(p: Proposal, ngram_gain: float, nn_gain: float) -> tuple[float, ...]:
    s = p.sources
    return (ngram_gain, p.channel, nn_gain, float("lm" in s), float(sum(t in s for t in THESAURI)),
            float("learned" in s), float("fingerprints" in s), float(p.reverse),
            float(p.inflected), float(len(p.words) - 1))


@dataclass(frozen=True)
class Ranker:
    """A linear score over :data:`RANK_FEATURES`; its softmax is P(c | substituted)."""

    weights: dict[str, float] = field(default_factory=dict)
    provenance: str = "unfitted: the fixed sum of n-gram, channel and neural scores"

    @classmethod
    def fixed(cls, channel_weight: float) -> Ranker:
        return cls({"ngram_gain": 1.0, "pick": channel_weight, "nn_gain": 1.0})

    def score(self, feats: Sequence[float]) -> float:
        return sum(self.weights.get(n, 0.0) * x for n, x in zip(RANK_FEATURES, feats, strict=True))

    def best(self, rows: Sequence[Sequence[float]]) -> int:
        """Index of the candidate this ranker puts first."""
        return max(range(len(rows)), key=lambda k: self.score(rows[k]))

    def to_json(self) -> dict[str, Any]:
        return {"weights": self.weights, "provenance": self.provenance}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Ranker:
        return cls({k: float(v) for k, v in d.get("weights", {}).items()},
                   str(d.get("provenance", "")))


def fit_ranker(groups: Sequence[tuple[Sequence[Sequence[float]], int]], l2: float = 0.1,
               provenance: str = "") -> Ranker:
    """Maximum-likelihood conditional logit (numpy only).

    ``groups`` holds, per decision, the feature rows of its candidates and the
    index of the true one. Newton steps on the concave log-likelihood with an
    L2 penalty (which also pins the weight of a feature that never varies
    within a decision to zero).
    """
    import numpy as np

    k = len(RANK_FEATURES)
    w = np.zeros(k)
    data = [(np.asarray(x, dtype=float), y) for x, y in groups if len(x) > 1]
    if not data:
        return Ranker(provenance=provenance)
    for _ in range(50):
        grad = -l2 * w
        hess = -l2 * np.eye(k)
        for x, y in data:
            s = x @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            mean = p @ x
            grad += x[y] - mean
            hess -= (x * p[:, None]).T @ x - np.outer(mean, mean)
        step = np.linalg.solve(hess, grad)
        w -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    return Ranker({n: float(v) for n, v in zip(RANK_FEATURES, w, strict=True)}, provenance)


def top1(ranker: Ranker, groups: Sequence[tuple[Sequence[Sequence[float]], int]]) -> float:
    """Share of ``groups`` (candidate rows, index of the true one) ranked first."""
    return sum(ranker.best(x) == y for x, y in groups) / max(1, len(groups))


def load_rankers() -> dict[str, Ranker]:
    """Fitted rankers shipped in ``unspin/data/ranker.json``, by model key ("kn3/neural")."""
    try:
        raw = resources.files("unspin.data").joinpath("ranker.json").read_text("utf-8")
    except (FileNotFoundError, ModuleNotFoundError):
        return {}
    return {k: Ranker.from_json(v) for k, v in json.loads(raw).get("models", {}).items()}

