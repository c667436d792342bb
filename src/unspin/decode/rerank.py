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
``bench/fit_ranker.py`` fits w by maximum likelihood and writes
``unspin/data/ranker.json``, which the bundle loads if present.

What ships is the fixed sum plus one fitted piece of evidence: how close in
meaning the candidate is to the spun text (``resources/similarity.py``),
weighted by a fit on real tortured phrases of the PPS DEV list (``--data pps
--free similarity,no_similarity``). A spinner picks from the original's own
synonym list, so the original tends to be the close one ("in spite of" ->
"despite", not "with"). A full refit on simulated news spins improved the
choice there but restored fewer tortured phrases (docs/model.md, "A ranker
for the choice among substitutions"), and the simulator picks synonyms blind
to meaning, so it cannot teach this weight; the other weights stay the sum's
(n-gram 1, channel ``channel_weight``, neural 1).
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
    "similarity",  # cosine of the spun text's and the candidate's phrase vectors (0 if unknown)
    "no_similarity",  # either phrase has no stored vector (resources/similarity.py)
)

def rank_features(p: Proposal, ngram_gain: float, nn_gain: float,
                  similarity: float | None = None) -> tuple[float, ...]:
    s = p.sources
    return (ngram_gain, p.channel, nn_gain, float("lm" in s), float(sum(t in s for t in THESAURI)),
            float("learned" in s), float("fingerprints" in s), float(p.reverse),
            float(p.inflected), float(len(p.words) - 1),
            similarity if similarity is not None else 0.0, float(similarity is None))


@dataclass(frozen=True)
class Ranker:
    """A linear score over :data:`RANK_FEATURES`; its softmax is P(c | substituted)."""

    weights: dict[str, float] = field(default_factory=dict)
    provenance: str = "unfitted: the fixed sum of n-gram, channel and neural scores"

    @classmethod
    def fixed(cls, channel_weight: float) -> Ranker:
        return cls({"ngram_gain": 1.0, "pick": channel_weight, "nn_gain": 1.0})

    def with_channel_weight(self, channel_weight: float) -> Ranker:
        """This ranker with the channel pick weighed as ``Config.channel_weight``
        says, when the fit kept the fixed sum's weight (the default, 1)."""
        if self.weights.get("pick") != 1.0 or channel_weight == 1.0:
            return self
        return Ranker({**self.weights, "pick": channel_weight}, self.provenance)

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
               provenance: str = "", base: Ranker | None = None,
               free: Sequence[str] | None = None) -> Ranker:
    """Maximum-likelihood conditional logit (numpy only).

    ``groups`` holds, per decision, the feature rows of its candidates and the
    index of the true one. Newton steps on the concave log-likelihood with an
    L2 penalty (which also pins the weight of a feature that never varies
    within a decision to zero).

    With ``free``, only those weights are fitted; every other weight stays
    ``base``'s (the fixed sum when None). A full refit reweighs the n-gram and
    neural scores that carry a tortured phrase's short collocation, and cost
    the PPS rows more than it won on news (docs/model.md); fitting one new
    feature on top of the sum asks only what that feature adds.
    """
    import numpy as np

    names = list(free) if free is not None else list(RANK_FEATURES)
    cols = [RANK_FEATURES.index(n) for n in names]
    start = base if base is not None else Ranker()
    fixed = np.array([0.0 if n in names else start.weights.get(n, 0.0) for n in RANK_FEATURES])
    k = len(cols)
    w = np.zeros(k)
    data = []
    for x, y in groups:
        if len(x) > 1:
            full = np.asarray(x, dtype=float)
            data.append((full[:, cols], full @ fixed, y))
    if not data:
        return Ranker(dict(start.weights), provenance=provenance)
    for _ in range(50):
        grad = -l2 * w
        hess = -l2 * np.eye(k)
        for xs, offset, y in data:
            s = offset + xs @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            mean = p @ xs
            grad += xs[y] - mean
            hess -= (xs * p[:, None]).T @ xs - np.outer(mean, mean)
        step = np.linalg.solve(hess, grad)
        w -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    weights = {n: float(v) for n, v in zip(RANK_FEATURES, fixed, strict=True) if v != 0.0}
    weights.update({n: float(v) for n, v in zip(names, w, strict=True)})
    return Ranker(weights, provenance)


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

