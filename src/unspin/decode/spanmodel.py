"""The flag decision: a model fitted over noisy-channel features.

The lattice decoder (``lattice.py``) chooses the best original for every
span; this model decides which of those choices to *report*, and with what
confidence. Its inputs are the noisy channel's own quantities, kept apart so
their weights can be fitted: the channel posterior, the language-model gain
of the candidate over the spun text, how surprising the spun word is in
context and on its own, the thesaurus pick probability and which kind of link
proposed it, and two document-level signals (how much of the document
surprises the LM, the estimated spin rate). This generalises the noisy
channel as machine translation's log-linear models do: the same two models,
with their combination fitted on data instead of fixed.

The shipped span models are gradient-boosted trees (``TreeEnsemble``): the
features interact (an LM gain means more for a rare spun word than for a
common one; a learned-table link means more when a table is loaded at all),
which a logistic model can only average over. ``bench/fit_model.py`` fits
them on decisions from synthetic spins (profiles a, b, d of the DEV split),
each story decoded twice, with and without a learned table (``learned_table``
says which), so one model serves both configurations; separately for each
kind of language model and tier. They ship in ``unspin/data/span_model.json``
with the command and data hash that produced them. The document model stays
logistic (``LogisticModel``): its trees were worse on held-out stories (see
docs/model.md, "Span model").
"""

from __future__ import annotations

import json
import math
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any, TypeAlias

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
    "learned_table",  # a learned substitution table is loaded (1) or not (0)
)


def clip_logit(p: float, bound: float = 8.0) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return max(-bound, min(bound, math.log(p / (1 - p))))


def sigmoid(z: float) -> float:
    """P from log-odds, clipped so a runaway score cannot overflow ``exp``."""
    z = max(-30.0, min(30.0, z))
    return 1.0 / (1.0 + math.exp(-z))


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
            return sigmoid(feats.get("nc_logit", 0.0))
        z = self.bias
        for name, w in self.weights.items():
            x = (feats.get(name, 0.0) - self.means.get(name, 0.0)) / self.scales.get(name, 1.0)
            z += w * x
        return sigmoid(z)

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


#: A tree as flat arrays: split feature, threshold, left child, right child
#: (-1 at a leaf), and the leaf's contribution to the log-odds.
Tree: TypeAlias = tuple[tuple[int, ...], tuple[float, ...], tuple[int, ...], tuple[int, ...],
                        tuple[float, ...]]


@dataclass(frozen=True)
class TreeEnsemble:
    """Gradient-boosted regression trees over named features; the log-odds is
    ``base`` plus one leaf value per tree.

    Evaluated in plain Python so the product needs no learning library at run
    time; ``fit_trees`` exports them from scikit-learn at fitting time.
    Features are rounded to 32-bit floats before comparing, as scikit-learn
    does, so a value on a split threshold goes the same way here and there.
    """

    names: tuple[str, ...]
    base: float
    trees: tuple[Tree, ...]
    #: Share of the squared-error reduction each feature earned in fitting:
    #: what the model leans on (shown in docs/model.md).
    importances: dict[str, float] = field(default_factory=dict)
    provenance: str = ""

    def log_odds(self, feats: dict[str, float]) -> float:
        x = array("f", [feats.get(n, 0.0) for n in self.names])
        z = self.base
        for feature, threshold, left, right, value in self.trees:
            i = 0
            while left[i] >= 0:
                i = left[i] if x[feature[i]] <= threshold[i] else right[i]
            z += value[i]
        return z

    def probability(self, feats: dict[str, float]) -> float:
        return sigmoid(self.log_odds(feats))

    def to_json(self) -> dict[str, Any]:
        return {"type": "trees", "names": list(self.names), "base": self.base,
                "trees": [[list(part) for part in t] for t in self.trees],
                "importances": self.importances, "provenance": self.provenance}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> TreeEnsemble:
        trees = tuple(
            (tuple(int(v) for v in f), tuple(float(v) for v in th), tuple(int(v) for v in lo),
             tuple(int(v) for v in hi), tuple(float(v) for v in val))
            for f, th, lo, hi, val in d["trees"])
        return cls(tuple(d["names"]), float(d["base"]), trees,
                   {k: float(v) for k, v in d.get("importances", {}).items()},
                   str(d.get("provenance", "")))


#: What scores a decision: the shipped trees, or a logistic model (the
#: untrained fallback, and the document models' form).
SpanModel: TypeAlias = LogisticModel | TreeEnsemble

#: Fitting settings of the shipped trees, chosen on DEV stories disjoint from
#: the fitting sample (docs/model.md, "Span model"): shallow trees, a leaf
#: needs 40 decisions, so no split memorises a handful of stories.
TREE_SETTINGS: dict[str, Any] = {"max_depth": 3, "n_estimators": 100, "learning_rate": 0.1,
                                 "min_samples_leaf": 40, "random_state": 0}


def fit_trees(rows: Sequence[dict[str, float]], labels: Sequence[int],
              names: Sequence[str] = FEATURES, provenance: str = "") -> TreeEnsemble:
    """Gradient boosting (scikit-learn, log-loss), exported to a ``TreeEnsemble``.

    The export is checked against scikit-learn's own scores on the fitting
    rows, so a change in its tree layout fails here rather than shipping.
    """
    import numpy as np
    from sklearn.ensemble import GradientBoostingClassifier

    x = np.array([[r.get(n, 0.0) for n in names] for r in rows], dtype=float)
    model = GradientBoostingClassifier(**TREE_SETTINGS).fit(x, np.array(labels))
    rate = float(model.learning_rate)
    trees: list[Tree] = []
    for est in model.estimators_[:, 0]:
        t = est.tree_
        trees.append((tuple(int(v) for v in t.feature), tuple(float(v) for v in t.threshold),
                      tuple(int(v) for v in t.children_left),
                      tuple(int(v) for v in t.children_right),
                      tuple(rate * float(v) for v in t.value[:, 0, 0])))
    # The base log-odds (scikit-learn's prior) is whatever separates our sum of
    # leaves from its scores; it must be the same constant on every row, which
    # is also the check that the export reads the trees as scikit-learn does.
    unbased = TreeEnsemble(tuple(names), 0.0, tuple(trees),
                           {n: round(float(v), 4)
                            for n, v in zip(names, model.feature_importances_, strict=True)},
                           provenance)
    offsets = model.decision_function(x) - np.array([unbased.log_odds(r) for r in rows])
    base = float(np.median(offsets))
    worst = float(np.abs(offsets - base).max())
    if worst > 1e-6:
        raise RuntimeError(f"exported trees disagree with scikit-learn by {worst:.2e} log-odds")
    return replace(unbased, base=base)


#: Tiers with their own fitted models: the two n-gram decoding modes, and the
#: accurate tier (full mode re-ranked by the neural LM, with its own features).
TIERS = ("full", "screen", "neural")


def model_key(kind: str, tier: str) -> str:
    """Key of a fitted model: the LM kind, plus "/screen" or "/neural" for those tiers."""
    return kind if tier == "full" else f"{kind}/{tier}"


def span_model_from_json(d: dict[str, Any]) -> SpanModel:
    return TreeEnsemble.from_json(d) if d.get("type") == "trees" else LogisticModel.from_json(d)


def load_span_models() -> dict[str, SpanModel]:
    try:
        raw = resources.files("unspin.data").joinpath("span_model.json").read_text("utf-8")
    except (FileNotFoundError, ModuleNotFoundError):
        return {}
    data = json.loads(raw)
    return {k: span_model_from_json(v) for k, v in data.get("models", {}).items()}
