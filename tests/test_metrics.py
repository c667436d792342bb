"""Metrics: hand-computed cases for every definition in unspin.evaluation.metrics."""

from __future__ import annotations

import math

import pytest

from unspin.evaluation import metrics as M
from unspin.evaluation.datasets import split_of, unwrap_reuters


def test_auroc() -> None:
    assert M.auroc([0, 1], [0.1, 0.9]) == 1.0
    assert M.auroc([0, 1], [0.9, 0.1]) == 0.0
    assert M.auroc([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]) == 0.5
    assert M.auroc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75
    with pytest.raises(ValueError):
        M.auroc([1, 1], [0.1, 0.2])


def test_f1_threshold_and_prf() -> None:
    r = M.f1_at_threshold([1, 1, 0, 0], [0.9, 0.2, 0.6, 0.1], 0.5)
    assert (r.precision, r.recall, r.f1) == (0.5, 0.5, 0.5)
    assert M.prf(0, 0, 0, 0) == M.PRF(1.0, 1.0, 1.0)
    assert M.prf(0, 0, 0, 3).f1 == 0.0


def test_ece() -> None:
    assert M.expected_calibration_error([1, 0], [1.0, 0.0]) == 0.0
    assert math.isclose(M.expected_calibration_error([1, 1, 0, 0], [0.5] * 4), 0.0)
    assert math.isclose(M.expected_calibration_error([1, 1], [0.7, 0.7]), 0.3)


def test_span_overlap_rule() -> None:
    # touching spans do not overlap; one predicted span may find two gold spans
    assert M.span_counts([(0, 5)], [(5, 8)]) == (0, 1, 0, 1)
    assert M.span_counts([(0, 3), (4, 8)], [(2, 6)]) == (1, 1, 2, 2)
    assert M.span_counts([], []) == (0, 0, 0, 0)


def test_token_counts() -> None:
    text = "the assortment of cases rose"
    assert M.token_counts(text, [(4, 14)], [(4, 17)]) == (1, 2, 1)


def test_restoration_counts() -> None:
    orig = "The number of cases rose, officials said."
    gold = [(4, 10), (36, 40)]  # number, said
    perfect = M.restoration_counts(orig, gold, orig)
    assert (perfect.recovered_words, perfect.gold_words, perfect.exact_subs) == (2, 2, 2)
    assert perfect.changed_untouched == 0 and perfect.untouched_words == 5
    spun = "The assortment of cases rose, officials mentioned."
    none = M.restoration_counts(orig, gold, spun)
    assert none.recovered_words == 0 and none.changed_untouched == 0
    wrong = M.restoration_counts(orig, gold, "The number of instances rose, officials said.")
    assert wrong.recovered_words == 2 and wrong.changed_untouched == 1


def test_bootstrap_deterministic_and_brackets() -> None:
    rows = [[1, 2]] * 30 + [[0, 2]] * 30
    a = M.bootstrap_ci(rows, lambda s: s[0] / s[1])
    assert a == M.bootstrap_ci(rows, lambda s: s[0] / s[1])
    assert a[0] < 0.25 < a[1]
    assert all(math.isnan(x) for x in M.bootstrap_ci([], lambda s: 0.0))


def test_split_fixed_and_reuters_unwrap() -> None:
    assert split_of("reuters-1") == "test"
    assert split_of("bbc-business-001") == "dev"
    raw = "Showers continued\nin the zone.\n    The dry period.\n Reuter\n&#3;"
    assert unwrap_reuters(raw) == "Showers continued in the zone.\n\nThe dry period."
