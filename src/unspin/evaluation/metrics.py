"""Evaluation metrics, each defined precisely enough to be recomputed by hand.

Document level
    * ``auroc``: probability that a random spun document scores above a
      random clean one (ties count one half; Mann-Whitney form).
    * ``f1_at_threshold``: precision/recall/F1 of ``score >= threshold``.
    * ``expected_calibration_error``: 10 equal-width bins over [0, 1];
      ``sum_b (n_b / n) * |mean(label in b) - mean(score in b)|``.

Span level (spun-text character offsets)
    * **span P/R/F1, overlap rule**: a predicted span is correct when it
      shares at least one character with some gold span; a gold span is found
      when at least one predicted span shares a character with it. Precision
      = correct predicted / predicted, recall = found gold / gold. Spans that
      merely touch (``end == start``) do not overlap.
    * **token P/R/F1**: over word and number tokens of the spun text; a token
      is gold (predicted) when it overlaps a gold (predicted) span.

Restoration (original-text words, via :func:`unspin.evaluation.align.align`
of the *restored* text against the *original*)
    * A **gold-substituted word** is a word/number token of the original that
      overlaps a gold substitution's original span. It is **recovered** when
      the alignment pairs it with an identical (normalised) token of the
      restored text. **Restoration exact match** = recovered / gold-substituted
      words. ``subs_exact`` is the stricter share of substitutions all of
      whose original words were recovered.
      Note: shared words count ("number of" spun as "assortment of": "of"
      survives spinning), so doing nothing scores above zero; the identity
      baseline row shows that floor.
    * **False-change rate**: share of original word tokens outside every gold
      span (untouched by the spinner) that are *not* paired with an identical
      token in the restored text, i.e. the system changed a word it should
      have left alone.
    * **False edits per 1,000 words** (clean text): number of edits whose
      replacement differs from the text, per 1,000 word tokens of input.

Confidence intervals
    :func:`bootstrap_ci` resamples *documents* with replacement (numpy,
    fixed seed), recomputing a ratio statistic from summed per-document
    counts, and returns the 2.5 / 97.5 percentiles.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from unspin.evaluation.align import align
from unspin.text.tokenize import Token, tokenize

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class PRF:
    precision: float
    recall: float
    f1: float


def prf(tp_pred: float, n_pred: float, tp_gold: float, n_gold: float) -> PRF:
    """P/R/F1 from counts; empty denominators give 0 (and P=1 when nothing predicted)."""
    precision = tp_pred / n_pred if n_pred else (1.0 if n_gold == 0 else 0.0)
    recall = tp_gold / n_gold if n_gold else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PRF(precision, recall, f1)


def auroc(labels: Sequence[int], scores: Sequence[float]) -> float:
    """Area under the ROC curve (ties count 1/2).

    >>> auroc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    y = np.asarray(labels, dtype=bool)
    s = np.asarray(scores, dtype=np.float64)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("AUROC needs at least one positive and one negative document")
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s), dtype=np.float64)
    sorted_s = s[order]
    i = 0
    while i < len(s):  # average ranks over ties
        j = i
        while j + 1 < len(s) and sorted_s[j + 1] == sorted_s[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def f1_at_threshold(labels: Sequence[int], scores: Sequence[float], threshold: float = 0.5) -> PRF:
    y = np.asarray(labels, dtype=bool)
    p = np.asarray(scores, dtype=np.float64) >= threshold
    tp = float((y & p).sum())
    return prf(tp, float(p.sum()), tp, float(y.sum()))


def expected_calibration_error(
    labels: Sequence[int], probs: Sequence[float], bins: int = 10
) -> float:
    """ECE with equal-width bins; a probability of exactly 1.0 falls in the last bin.

    >>> round(expected_calibration_error([0, 1, 1, 0], [0.05, 0.95, 0.95, 0.05]), 3)
    0.05
    """
    y = np.asarray(labels, dtype=np.float64)
    p = np.clip(np.asarray(probs, dtype=np.float64), 0.0, 1.0)
    if len(y) == 0:
        return 0.0
    idx = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        sel = idx == b
        if sel.any():
            total += sel.sum() / len(y) * abs(y[sel].mean() - p[sel].mean())
    return float(total)


Spans = Sequence[tuple[int, int]]


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def span_counts(gold: Spans, pred: Spans) -> tuple[int, int, int, int]:
    """(correct predicted, predicted, found gold, gold) under the overlap rule.

    >>> span_counts([(0, 5), (10, 12)], [(3, 4), (5, 10), (20, 22)])
    (1, 3, 1, 2)
    """
    correct = sum(1 for p in pred if any(_overlaps(p, g) for g in gold))
    found = sum(1 for g in gold if any(_overlaps(p, g) for p in pred))
    return correct, len(pred), found, len(gold)


def _word_tokens(text: str) -> list[Token]:
    return [t for t in tokenize(text) if t.norm[:1].isalnum()]


def token_counts(text: str, gold: Spans, pred: Spans) -> tuple[int, int, int]:
    """(true-positive tokens, predicted tokens, gold tokens) over word tokens of ``text``."""
    tp = n_pred = n_gold = 0
    for tok in _word_tokens(text):
        span = (tok.start, tok.end)
        g = any(_overlaps(span, s) for s in gold)
        p = any(_overlaps(span, s) for s in pred)
        n_gold += g
        n_pred += p
        tp += g and p
    return tp, n_pred, n_gold


@dataclass(frozen=True, slots=True)
class RestorationCounts:
    recovered_words: int
    gold_words: int
    exact_subs: int
    gold_subs: int
    changed_untouched: int
    untouched_words: int


def restoration_counts(original: str, gold_orig_spans: Spans, restored: str) -> RestorationCounts:
    """Count recovered gold words and falsely changed untouched words (see module doc).

    >>> c = restoration_counts("the number of cases rose", [(4, 13)], "the number of cases rose")
    >>> (c.recovered_words, c.gold_words, c.changed_untouched)
    (2, 2, 0)
    """
    tokens = tokenize(original)
    matched = {j for _, j in align(restored, original).matched}
    recovered = gold_words = changed = untouched = 0
    per_sub: dict[int, list[bool]] = {k: [] for k in range(len(gold_orig_spans))}
    for j, tok in enumerate(tokens):
        if not tok.norm[:1].isalnum():
            continue
        hits = [k for k, s in enumerate(gold_orig_spans) if _overlaps((tok.start, tok.end), s)]
        ok = j in matched
        if hits:
            gold_words += 1
            recovered += ok
            for k in hits:
                per_sub[k].append(ok)
        else:
            untouched += 1
            changed += not ok
    exact = sum(1 for oks in per_sub.values() if oks and all(oks))
    n_subs = sum(1 for oks in per_sub.values() if oks)
    return RestorationCounts(recovered, gold_words, exact, n_subs, changed, untouched)


def count_words(text: str) -> int:
    return len(_word_tokens(text))


def bootstrap_ci(
    rows: Sequence[Sequence[float]] | FloatArray,
    stat: Callable[[FloatArray], float],
    n_boot: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
) -> tuple[float, float]:
    """Percentile bootstrap over documents.

    ``rows`` has one row of additive counts per document; ``stat`` maps the
    column sums of a resample to the statistic (e.g. ``lambda s: s[0] / s[1]``).

    >>> lo, hi = bootstrap_ci([[1, 2]] * 50 + [[0, 2]] * 50, lambda s: s[0] / s[1])
    >>> 0.18 < lo < 0.25 < hi < 0.32
    True
    """
    data = np.asarray(rows, dtype=np.float64)
    if data.ndim != 2 or len(data) == 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(data), size=(n_boot, len(data)))
    sums = data[idx].sum(axis=1)
    values = np.array([stat(s) for s in sums], dtype=np.float64)
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return (float("nan"), float("nan"))
    lo, hi = np.quantile(values, [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


def safe_ratio(num: float, den: float) -> float:
    return num / den if den else float("nan")


def f1_from_sums(s: FloatArray) -> float:
    """F1 from summed (correct pred, pred, found gold, gold) counts."""
    return prf(float(s[0]), float(s[1]), float(s[2]), float(s[3])).f1
