"""Phrase similarity (resources/similarity.py) and the ranker features that read it."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest

from unspin.decode.rerank import RANK_FEATURES, Ranker, fit_ranker, rank_features, top1

PHRASES = ["despite", "in spite of", "with", "milestone", "landmark", "crisis", "shutdown",
           "closure", "union", "instance", "case", "so far", "up to now", "already"]


@pytest.fixture(scope="module")
def small_table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from unspin.resources.similarity import build

    return build(PHRASES, str(tmp_path_factory.mktemp("cache")))


@pytest.mark.engine
def test_stored_vectors_keep_the_models_cosine(small_table: Path) -> None:
    """int8 rows with a scale each: the stored cosine is the model's within 0.01."""
    import numpy as np

    from unspin.resources.similarity import Similarity, encode, model_dir

    directory = model_dir()
    assert directory is not None
    exact = encode(PHRASES, directory)
    sim = Similarity(small_table)
    for i, a in enumerate(PHRASES):
        for j, b in enumerate(PHRASES):
            got = sim.score(a, b)
            assert got is not None
            assert abs(got - float(np.dot(exact[i], exact[j]))) < 0.01, (a, b)


@pytest.mark.engine
def test_the_original_is_closer_than_the_wrong_sense_link(small_table: Path) -> None:
    """The real-pair swaps that motivated the feature: each spun phrase is
    closer to its original than to the frequent word the LMs preferred."""
    from unspin.resources.similarity import Similarity

    sim = Similarity(small_table)

    def s(a: str, b: str) -> float:
        got = sim.score(a, b)
        assert got is not None
        return got

    assert s("in spite of", "despite") > s("in spite of", "with")
    assert s("landmark", "milestone") > s("landmark", "crisis")
    assert s("closure", "shutdown") > s("closure", "union")
    assert s("up to now", "so far") > s("up to now", "already")


@pytest.mark.engine
def test_unknown_phrases_fall_back_to_lemmas_then_to_none(small_table: Path) -> None:
    from unspin.resources.similarity import Similarity

    sim = Similarity(small_table)
    assert sim.score("Instances", "cases") == sim.score("instance", "case")
    assert sim.score("instances", "zyzzogeton") is None
    assert sim.score("", "case") is None


@pytest.mark.engine
def test_a_built_table_is_reused_and_complete(small_table: Path) -> None:
    from unspin.resources.similarity import build

    marker = small_table / "complete"
    assert marker.is_file()
    assert not small_table.with_name(small_table.name + ".tmp").exists()
    before = marker.stat().st_mtime_ns
    assert build(["other", "words"], str(small_table.parents[2])) == small_table
    assert marker.stat().st_mtime_ns == before


def test_the_fixed_sum_ignores_similarity() -> None:
    """Without a fitted weight, a candidate's similarity changes nothing: the
    shipped ranking is the sum it always was."""
    from unspin.candidates.generate import Proposal

    p = Proposal(text="despite", words=("despite",), channel=-2.0, sources=("moby",),
                 detail="")
    fixed = Ranker.fixed(1.0)
    assert fixed.score(rank_features(p, 1.0, 2.0, 0.9)) == fixed.score(
        rank_features(p, 1.0, 2.0, None)) == 1.0 - 2.0 + 2.0
    assert rank_features(p, 1.0, 2.0, None)[-2:] == (0.0, 1.0)
    assert len(rank_features(p, 1.0, 2.0, 0.5)) == len(RANK_FEATURES)


def test_fitting_only_new_weights_keeps_the_others() -> None:
    """``free`` fits the named weights on top of a base ranker and leaves the
    base's weights as they were; the planted similarity weight is recovered."""
    rng = random.Random(3)
    base = Ranker.fixed(0.8)
    plant = 4.0
    sim_col = RANK_FEATURES.index("similarity")
    groups = []
    for _ in range(800):
        rows = [tuple(rng.gauss(0, 1.5) if n in ("ngram_gain", "pick", "nn_gain")
                      else rng.random() if n == "similarity" else 0.0 for n in RANK_FEATURES)
                for _ in range(rng.randint(2, 5))]
        # Gumbel noise: the argmax then follows the conditional logit exactly
        scores = [base.score(r) + plant * r[sim_col] - math.log(-math.log(rng.random()))
                  for r in rows]
        groups.append((rows, max(range(len(rows)), key=scores.__getitem__)))
    fitted = fit_ranker(groups, base=base, free=("similarity", "no_similarity"))
    for name in ("ngram_gain", "pick", "nn_gain"):
        assert fitted.weights[name] == base.weights[name]
    assert 3.0 < fitted.weights["similarity"] < 5.0
    assert abs(fitted.weights["no_similarity"]) < 0.05  # never varies: pinned by the penalty
    assert top1(fitted, groups) > top1(base, groups)


@pytest.mark.engine
def test_the_accurate_tier_says_how_close_its_choice_is() -> None:
    """The shipped ranker weighs closeness in meaning; each accurate-tier span's
    ranker evidence quotes the value it read for the ranker's choice, which the
    stored table replays."""
    import unspin
    from unspin.decode.rerank import load_rankers
    from unspin.resources.bundle import get_bundle
    from unspin.resources.similarity import get_similarity

    assert all(r.weights.get("similarity", 0.0) > 0 for r in load_rankers().values())
    example = Path(unspin.__file__).parent / "examples" / "spun_news.txt"
    a = unspin.check(example.read_text(encoding="utf-8"), scorer="neural")
    assert a.spans
    index = get_bundle(unspin.Config()).generator.inverse
    assert index is not None
    sim = get_similarity(str(index.path))
    assert sim is not None
    for span in a.spans:
        line = next(e for e in span.evidence if e.kind == "ranker")
        quoted = float(line.detail.split("closeness in meaning to ", 1)[1]
                       .split("' ", 1)[1].split(";", 1)[0])
        # the ranker's choice: listed second where the next words re-chose
        subs = [c for c in span.candidates if "spun" not in c.sources]
        rechosen = any(e.detail.startswith("re-chosen") for e in span.evidence)
        ranked = subs[1] if rechosen else subs[0]
        assert ranked.text.lower() in line.detail.lower()
        assert quoted == round(sim.score(span.text.lower(), ranked.text.lower()) or 0.0, 2)
