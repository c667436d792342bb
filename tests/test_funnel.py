"""The substitution funnel (``harness.evaluate_funnel``): where gold substitutions are lost."""

from __future__ import annotations

import math

import pytest

from unspin.config import Config
from unspin.evaluation.harness import FUNNEL_STAGES, Labelled, evaluate_funnel

SPUN = "The dying toll rose to 68, the ministry stated on Saturday."
ORIGINAL = "The death toll rose to 68, the ministry said on Saturday."


def _item() -> Labelled:
    def at(text: str, word: str) -> tuple[int, int]:
        start = text.index(word)
        return start, start + len(word)

    return Labelled("funnel-example", SPUN, ORIGINAL,
                    (at(SPUN, "dying"), at(SPUN, "stated")),
                    (at(ORIGINAL, "death"), at(ORIGINAL, "said")), "synthetic")


@pytest.mark.parametrize("scorer", ["ngram", pytest.param("neural", marks=pytest.mark.engine)])
def test_the_funnel_counts_each_gold_substitution_once_and_narrows(scorer: str) -> None:
    f = evaluate_funnel(Config(scorer=scorer, favor_recall=True), [_item()])
    assert f.substitutions == 2
    # both originals are thesaurus links of their spun words ('death' lists
    # 'dying', 'said' lists 'stated'): the funnel's first stage sees them
    assert f.proposed == 1.0
    stages = f.as_dict()
    assert set(FUNNEL_STAGES) == set(stages) - {"substitutions"}  # every stage is reported
    assert all(v is None or 0.0 <= v <= 1.0 for k, v in stages.items() if k in FUNNEL_STAGES)
    assert f.restored <= f.flagged and f.restored <= f.chosen <= f.examined
    if scorer == "neural":
        assert f.candidate is not None and f.chosen <= f.candidate <= f.examined
        # the accurate tier restores 'dying' -> 'death' here (the bundled example's case)
        assert f.restored >= 0.5
    else:
        assert f.candidate is None


def test_the_funnel_of_a_text_with_no_substitution_is_empty() -> None:
    clean = Labelled("clean", ORIGINAL, ORIGINAL, (), (), "clean")
    f = evaluate_funnel(Config(), [clean])
    assert f.substitutions == 0
    # no denominator: every share is undefined (NaN, as metrics.safe_ratio says), not 0
    assert all(math.isnan(v) for v in (f.proposed, f.examined, f.chosen, f.restored))


@pytest.mark.engine
def test_a_collocation_counts_once_per_word_at_every_stage() -> None:
    """The accurate tier restores "counterfeit consciousness" as one two-word
    decision and reports two word spans; the funnel counts both gold words at
    every stage, its candidates included (matched per word)."""
    spun = "Researchers say counterfeit consciousness will change the way doctors work."
    original = "Researchers say artificial intelligence will change the way doctors work."
    at = [(spun.index(w), spun.index(w) + len(w)) for w in ("counterfeit", "consciousness")]
    gold = [(original.index(w), original.index(w) + len(w)) for w in ("artificial", "intelligence")]
    item = Labelled("collocation", spun, original, tuple(at), tuple(gold), "synthetic")
    f = evaluate_funnel(Config(scorer="neural"), [item])
    assert f.substitutions == 2
    assert f.examined == f.candidate == f.chosen == f.flagged == f.restored == 1.0
