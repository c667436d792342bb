"""Metrics: hand-computed cases for every definition in unspin.evaluation.metrics."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import unspin
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


def test_the_harness_skips_fingerprint_rows_whose_original_is_unknown(tmp_path: Path) -> None:
    """A "???" row can never be restored: counting it would cap every system's score."""
    from unspin.evaluation.baselines import read_pps_csv

    csv_path = tmp_path / "pps.csv"
    csv_path.write_text(
        'tortured_phrase,expected_phrase,num_papers\n'
        '"""scopes of distance""",???,356\n'
        '"""counterfeit consciousness""",artificial intelligence,900\n'
        '"""profound learning""",deep learning (see https://example.org),12\n',
        encoding="utf-8")
    rows = read_pps_csv(csv_path)
    assert [(r.tortured, r.expected) for r in rows] == [
        ("counterfeit consciousness", ("artificial intelligence",))]


def test_paper_paragraphs_score_the_phrases_and_the_carrier_apart() -> None:
    """The list matcher restores every listed phrase and touches nothing else; a
    restorer that also rewrites a carrier word pays for it in the carrier rate."""
    from dataclasses import replace

    from unspin.evaluation import harness as H
    from unspin.evaluation.baselines import FingerprintRow, ListMatcher, identity
    from unspin.types import Edit

    rows = [FingerprintRow(t, (e,), 1, f'"{t}"') for t, e in [
        ("counterfeit consciousness", "artificial intelligence"),
        ("profound learning", "deep learning"), ("irregular woods", "random forest"),
        ("flag to commotion", "signal to noise"), ("huge information", "big data"),
        ("savvy home", "smart home")]]
    paragraphs = H.paper_paragraphs(rows, 3, per=3, seed=1)
    assert len(paragraphs) == 2  # six rows, three to a paragraph
    for tortured, clean, where in paragraphs:
        assert [tortured[s:e] for s, e, _ in where] == [r.tortured for *_, r in where]
        assert all(r.expected[0] in clean for *_, r in where)

    matcher = ListMatcher(rows)
    r = H.evaluate_paper_paragraphs(matcher, rows, 3, per=3, seed=1)
    assert (r.phrases, r.exact, r.touched, r.auroc) == (6, 1.0, 1.0, 1.0)
    assert r.carrier_false_per_1000 == r.clean_false_per_1000 == 0.0
    assert (r.spun_tortured, r.spun_clean) == (1.0, 0.0)

    nothing = H.evaluate_paper_paragraphs(identity, rows, 3, per=3, seed=1)
    assert (nothing.exact, nothing.touched, nothing.auroc) == (0.0, 0.0, 0.5)

    def meddler(text: str) -> unspin.Analysis:
        a = matcher(text)
        k = text.index("the ")
        extra = Edit(k, k + 3, "the", "a", source="test", confidence=1.0)
        return replace(a, edits=tuple(sorted((*a.edits, extra), key=lambda e: e.start)))

    meddled = H.evaluate_paper_paragraphs(meddler, rows, 3, per=3, seed=1)
    assert meddled.exact == 1.0
    assert meddled.carrier_false_per_1000 > 0 and meddled.clean_false_per_1000 > 0

    # Listed phrases are left out of the phrase scores, and their edits are not
    # carrier edits.
    one = frozenset({rows[0].tortured})
    skipped = H.evaluate_paper_paragraphs(matcher, rows, 3, per=3, seed=1, listed=one)
    assert (skipped.phrases, skipped.exact, skipped.carrier_false_per_1000) == (5, 1.0, 0.0)


def test_the_listed_restorer_reads_its_list_and_leaves_the_users_alone() -> None:
    from unspin.evaluation import harness as H
    from unspin.evaluation.baselines import FingerprintRow
    from unspin.resources.cache import cache_dir

    rows = [FingerprintRow("counterfeit consciousness", ("artificial intelligence",), 9,
                           '"counterfeit consciousness"')]
    users = cache_dir().parent / "fingerprints"
    before = sorted(users.iterdir()) if users.is_dir() else []
    a = H.listed_restorer(rows, mode="screen")("Counterfeit consciousness is everywhere.")
    assert a.restored_text == "Artificial intelligence is everywhere."
    assert a.spans[0].listed
    assert (sorted(users.iterdir()) if users.is_dir() else []) == before
