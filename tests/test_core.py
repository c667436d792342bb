"""The core verbs: contract, replay, fixed point, errors, hostile input."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import unspin
from unspin.types import ANALYSIS_SCHEMA, Edit

SPUN = ("The assortment of Covid-19 cases climbed to 2,902 on Saturday while the "
        "dying toll rose to 68, the ministry stated.")


@pytest.fixture(scope="module")
def newsroom_lm(shared_data: Path) -> str:
    """Flag-level assertions use the recommended configuration (a newsroom model);
    the shipped default is too weak to flag a one-sentence text (known-failures)."""
    from unspin.evaluation.harness import ensure_ngram

    return str(ensure_ngram())


def test_check_returns_explained_spans_that_replay(newsroom_lm: str) -> None:
    a = unspin.check(SPUN, ngram_path=newsroom_lm)
    assert a.spans, "the dying toll sentence must be flagged"
    dying = [s for s in a.spans if s.text == "dying"]
    assert dying and dying[0].restored == "death"
    for s in a.spans:
        assert SPUN[s.start : s.end] == s.text
        assert 0.0 <= s.confidence <= 1.0
        assert s.candidates and s.candidates[0].sources
        assert {e.kind for e in s.evidence} >= {"channel", "lm"}
    assert unspin.apply_edits(SPUN, a.edits) == a.restored_text
    assert "death toll" in a.restored_text
    assert 0.0 <= a.score <= 1.0


def test_json_contract(newsroom_lm: str) -> None:
    out = unspin.check(SPUN, ngram_path=newsroom_lm).to_json()
    assert out["schema"] == ANALYSIS_SCHEMA
    assert set(out) >= {"schema", "score", "spun", "restored_text", "spans"}
    span = out["spans"][0]
    assert set(span) >= {"start", "end", "text", "restored", "confidence", "candidates",
                         "evidence"}
    assert set(span["candidates"][0]) >= {"text", "score", "sources"}
    json.dumps(out)  # serialisable
    # applying each span's restoration reproduces restored_text
    text = SPUN
    for s in sorted(out["spans"], key=lambda s: -s["start"]):
        text = text[: s["start"]] + s["restored"] + text[s["end"] :]
    assert text == out["restored_text"]


def test_restoring_restored_text_changes_nothing_more(newsroom_lm: str) -> None:
    once = unspin.restore(SPUN, ngram_path=newsroom_lm)
    assert once != SPUN  # the fixed point is only a test if the first pass did something
    twice = unspin.restore(once, ngram_path=newsroom_lm)
    assert twice == once


def test_verbs_agree(newsroom_lm: str) -> None:
    a = unspin.check(SPUN, ngram_path=newsroom_lm)
    assert a.edits
    restored, edits = unspin.restore_and_explain(SPUN, ngram_path=newsroom_lm)
    assert restored == a.restored_text == unspin.restore(SPUN, ngram_path=newsroom_lm)
    assert edits == a.edits


@pytest.mark.parametrize(
    ("bad", "fragment"),
    [
        (b"bytes", "decode first"),
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("abc\x00def", "binary"),
        ("\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f\x10\x11" * 4, "binary"),
    ],
)
def test_bad_input_teaches(bad: object, fragment: str) -> None:
    with pytest.raises(unspin.InputError, match=fragment):
        unspin.check(bad)  # type: ignore[arg-type]


def test_oversized_input_has_a_documented_cap() -> None:
    with pytest.raises(unspin.InputError, match="cap"):
        unspin.check("word " * 100, max_chars=50)


def test_unknown_option_lists_valid_ones() -> None:
    with pytest.raises(ValueError, match="valid options"):
        unspin.check(SPUN, favour_precision=True)
    with pytest.raises(ValueError, match="valid: moby"):
        unspin.check(SPUN, sources=("moby", "thesaurus.com"))


def test_apply_edits_rejects_edits_for_another_text() -> None:
    with pytest.raises(ValueError, match="expects"):
        unspin.apply_edits("hello world", [Edit(0, 5, "howdy", "hi", "test", 1.0)])


def test_favor_precision_flags_no_more_than_default(newsroom_lm: str) -> None:
    default = unspin.check(SPUN, ngram_path=newsroom_lm)
    precise = unspin.check(SPUN, ngram_path=newsroom_lm, favor_precision=True)
    recall = unspin.check(SPUN, ngram_path=newsroom_lm, favor_recall=True)
    assert default.spans
    assert len(precise.spans) <= len(default.spans) <= len(recall.spans)
    assert {s.start for s in precise.spans} <= {s.start for s in default.spans}


def test_flag_threshold_defaults_to_the_tiers_fitted_operating_point() -> None:
    cfg = unspin.Config()
    assert cfg.flag_threshold is None
    assert cfg.effective_flag_threshold(0.62) == 0.62
    assert unspin.Config(flag_threshold=0.4).effective_flag_threshold(0.62) == 0.4
    assert unspin.Config(favor_recall=True).effective_flag_threshold(0.62) == pytest.approx(0.42)
    assert unspin.Config(favor_precision=True).effective_flag_threshold(0.62) == pytest.approx(
        0.87)
    with pytest.raises(ValueError, match="flag_threshold"):
        unspin.Config(flag_threshold=1.0)


def test_suspects_are_listed_for_review_and_never_applied() -> None:
    # The bundled example under the shipped default model: the document model
    # is unsure (P(spun) near 0.6), so no span's confidence reaches the
    # operating point, yet the span model alone rates several substitutions
    # above it. They are reported as suspects, each saying why, and never edited.
    from unspin.report.terminal import SUSPECTS_HEADER, render_plain
    from unspin.resources.bundle import get_bundle

    text = (Path(unspin.__file__).parent / "examples" / "spun_news.txt").read_text()
    cfg = unspin.Config()
    a = unspin.check(text, config=cfg)
    threshold = cfg.effective_flag_threshold(get_bundle(cfg).operating_points["full"])
    assert a.suspects, "the example should leave some span under the threshold"
    taken: list[tuple[int, int]] = [(s.start, s.end) for s in a.spans]
    for s in a.suspects:
        assert text[s.start:s.end] == s.text
        assert s.confidence < threshold
        why = [e for e in s.evidence if e.kind == "suspect"]
        assert len(why) == 1 and why[0].value >= threshold
        assert s.confidence == pytest.approx(a.score * why[0].value, abs=1e-9)
        assert not any(s.start < e and s.end > b for b, e in taken)
        taken.append((s.start, s.end))
    assert a.restored_text == unspin.apply_edits(text, a.edits)
    assert len(a.edits) == len(a.spans)
    doc = json.loads(json.dumps(a.to_json()))
    assert [(x["start"], x["text"]) for x in doc["suspects"]] == [
        (s.start, s.text) for s in a.suspects]
    assert SUSPECTS_HEADER in render_plain(a)


def test_the_document_model_reads_the_span_models_count() -> None:
    """P(spun) reads the span model's expected count of substitutions per 100 words,
    computed from the same decisions the spans come from; the accurate tier's fitted
    document models weigh it (a refit that dropped the features fails here)."""
    from importlib import resources

    from unspin.core import analyze
    from unspin.decode.score import SPAN_DOC_FEATURES
    from unspin.resources.bundle import get_bundle

    text = (Path(unspin.__file__).parent / "examples" / "spun_news.txt").read_text()
    cfg = unspin.Config()
    got: list[tuple[int, int, str, dict[str, float]]] = []
    a = analyze(text, cfg, collect=got)
    span_model = get_bundle(cfg).span_models["full"]
    given = [span_model.probability(f) for *_, f in got]
    assert given and any(g >= 0.5 for g in given)
    words = a.features["words"]
    assert a.features["given_per_100w"] == pytest.approx(100 * sum(given) / words)
    assert a.features["given_hi_per_100w"] == pytest.approx(
        100 * sum(1 for g in given if g >= 0.5) / words)
    models = json.loads(resources.files("unspin.data").joinpath("calibration.json")
                       .read_text("utf-8"))["models"]
    for key in ("default/neural", "kn3/neural"):
        assert all(models[key]["weights"].get(n, 0.0) != 0.0 for n in SPAN_DOC_FEATURES), key


def test_every_shipped_tier_has_an_operating_point_from_its_fit() -> None:
    """A refit that forgot the points would silently fall back to 0.5."""
    from importlib import resources

    from unspin.decode.score import operating_point
    from unspin.decode.spanmodel import TIERS, model_key

    models = json.loads(resources.files("unspin.data").joinpath("calibration.json")
                       .read_text("utf-8"))["models"]
    for kind in ("default", "kn3"):
        for tier in TIERS:
            entry = models[model_key(kind, tier)]
            assert 0.5 <= entry["flag_threshold"] <= 0.95
            assert "false edits" in entry["flag_threshold_provenance"]
            assert operating_point(model_key(kind, tier)) == entry["flag_threshold"]
    assert operating_point("no-such-model") == 0.5


def test_an_explicit_flag_threshold_overrides_the_operating_point(newsroom_lm: str) -> None:
    low = unspin.check(SPUN, ngram_path=newsroom_lm, flag_threshold=0.05)
    default = unspin.check(SPUN, ngram_path=newsroom_lm)
    assert len(low.spans) > len(default.spans)
    assert min(s.confidence for s in low.spans) < 0.5


def test_span_trees_learn_an_interaction_a_logistic_model_cannot() -> None:
    """Why the span model is trees: a signal that matters only together with
    another (a table link only counts when a table is loaded) is beyond a
    logistic model; and the exported trees score exactly as fitted."""
    import random

    from unspin.decode.spanmodel import TreeEnsemble, fit_logistic, fit_trees

    rng = random.Random(3)
    rows = [{"learned": float(rng.random() < 0.5), "learned_table": float(rng.random() < 0.5),
             "lm_gain": rng.gauss(0, 1)} for _ in range(2000)]
    labels = [int(r["learned"] == r["learned_table"]) for r in rows]
    names = ("learned", "learned_table", "lm_gain")
    trees = fit_trees(rows, labels, names=names, provenance="test")
    linear = fit_logistic(rows, labels, names=names)

    def accuracy(prob: Callable[[dict[str, float]], float]) -> float:
        return (sum((prob(r) >= 0.5) == bool(y) for r, y in zip(rows, labels, strict=True))
                   / len(rows))

    assert accuracy(trees.probability) > 0.98
    assert accuracy(linear.probability) < 0.8  # a line gets at most 3 of the 4 cells
    again = TreeEnsemble.from_json(json.loads(json.dumps(trees.to_json())))
    assert [again.probability(r) for r in rows[:200]] == [trees.probability(r) for r in rows[:200]]
    assert trees.importances["lm_gain"] < 0.05  # the noise feature earns next to nothing


def test_shipped_span_models_are_fitted_trees_that_know_about_learned_tables() -> None:
    from unspin.decode.spanmodel import TIERS, TreeEnsemble, load_span_models, model_key

    models = load_span_models()
    for kind in ("default", "kn3"):
        for tier in TIERS:
            model = models[model_key(kind, tier)]
            assert isinstance(model, TreeEnsemble)
            assert "learned_table" in model.names
            assert "with and without a learned table" in model.provenance
            assert len(model.trees) >= 50


def test_the_candidate_ranker_learns_weights_the_fixed_sum_gets_wrong() -> None:
    """The accurate tier's choice among substitutions is a fitted conditional
    logit: when the truth follows a weak n-gram score, a strong channel and a
    penalty on extra words, the fit finds that and the fixed sum does not."""
    import random

    from unspin.decode.rerank import RANK_FEATURES, Ranker, fit_ranker, top1

    rng = random.Random(5)
    truth_w = {"ngram_gain": 0.2, "pick": 1.0, "nn_gain": 0.7, "extra_words": -1.5}
    groups = []
    for _ in range(600):
        rows = [tuple(rng.gauss(0, 2) if n in truth_w and n != "extra_words"
                      else float(rng.random() < 0.3) for n in RANK_FEATURES)
                for _ in range(rng.randint(2, 6))]
        score = [sum(truth_w.get(n, 0.0) * x for n, x in zip(RANK_FEATURES, r, strict=True))
                 + rng.gauss(0, 0.3) for r in rows]
        groups.append((rows, max(range(len(rows)), key=score.__getitem__)))

    fitted = fit_ranker(groups, provenance="test")
    fixed = Ranker.fixed(1.0)
    assert top1(fitted, groups) > 0.9
    assert top1(fitted, groups) > top1(fixed, groups) + 0.1
    assert fitted.weights["extra_words"] < -0.5
    assert abs(fitted.weights["reverse"]) < 0.3  # never mattered
    again = Ranker.from_json(json.loads(json.dumps(fitted.to_json())))
    firsts = [x[0] for x, _ in groups[:50]]
    assert [again.score(f) for f in firsts] == [fitted.score(f) for f in firsts]


def test_the_learned_table_feature_says_whether_a_table_is_loaded(
        newsroom_lm: str, tmp_path: Path) -> None:
    from unspin.candidates.learned import learn_from_pairs
    from unspin.core import analyze

    table = learn_from_pairs([("Many international locations agreed.", "Many countries agreed.")],
                             source="test").save(tmp_path / "learned.tsv")
    text = "Several international locations signed the treaty, said the Safety Council."
    seen = {}
    for tables in ((), (str(table),)):
        got: list[tuple[int, int, str, dict[str, float]]] = []
        analyze(text, unspin.Config(ngram_path=newsroom_lm, learned_tables=tables,
                                    flag_threshold=0.01), collect=got)
        assert got
        seen[bool(tables)] = {feats["learned_table"] for *_, feats in got}
    assert seen == {False: {0.0}, True: {1.0}}


@pytest.mark.slow
def test_one_megabyte_single_line() -> None:
    line = ("the assortment of cases rose while the dying toll fell and " * 18000)[:1_000_000]
    a = unspin.check(line, mode="screen")
    assert unspin.apply_edits(line, a.edits) == a.restored_text
    assert all(0 <= s.start < s.end <= len(line) for s in a.spans)


_hostile = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=300
) | st.lists(
    st.sampled_from(["the", "assortment", "of", "cases", "dying", "toll", "\u200f", "مرحبا",
                     "😀", "e\u0301", "\x07", "\n\n", ".", ",", "Safety", "Council", " "]),
    max_size=60,
).map(" ".join)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_hostile)
def test_any_unicode_raises_only_documented_errors(text: str) -> None:
    try:
        a = unspin.check(text)
    except unspin.InputError:
        return
    assert unspin.apply_edits(text, a.edits) == a.restored_text
    for s in a.spans:
        assert 0 <= s.start < s.end <= len(text)
        assert text[s.start : s.end] == s.text


@pytest.fixture
def import_list(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Give every analysis in the test a fingerprint list made of PPS CSV rows, without
    touching the user's stored lists."""
    from dataclasses import replace

    from unspin import core
    from unspin.fingerprints.matcher import FingerprintMatcher
    from unspin.fingerprints.store import read_pps_csv

    real_bundle = core.get_bundle

    def install(rows: str) -> None:
        report = read_pps_csv("tortured_phrase,expected_phrase,num_papers\n" + rows,
                              name="inline", source="test")
        monkeypatch.setattr(core, "get_bundle", lambda config: replace(
            real_bundle(config), matcher=FingerprintMatcher([report.set])))

    return install


def test_a_listed_phrase_without_a_known_original_is_flagged_not_replaced(
        import_list: Callable[[str], None]) -> None:
    """PPS exports mark phrases whose original nobody knows with "???" (182 rows of the
    DEV list): the phrase is flagged as listed, and the note never enters the text. A
    listed hit also raises P(spun) before the model's own spans are weighed."""
    from unspin import core
    from unspin.report.terminal import render_plain

    import_list('"""scopes of distance""",???,356\n'
                '"""counterfeit consciousness""",artificial intelligence,900\n')
    text = "We study the scopes of distance in counterfeit consciousness systems."
    a = unspin.check(text)
    by_text = {s.text: s for s in a.spans}
    assert by_text["counterfeit consciousness"].restored == "artificial intelligence"
    assert "???" not in a.restored_text
    assert a.restored_text.endswith(" in artificial intelligence systems.")
    assert unspin.apply_edits(text, a.edits) == a.restored_text
    # Inside the note's phrase: the model's own spans, carrying the list's line, or
    # (where the model flagged nothing) the phrase itself, flagged and unchanged.
    lo = text.index("scopes of distance")
    inside = [s for s in a.spans if s.start < lo + len("scopes of distance") and s.end > lo]
    assert inside and all(any("gives no original" in e.detail for e in s.evidence)
                          for s in inside)
    for s in inside:
        assert s.listed == (s.restored == s.text)
    # With no thesaurus or LM source the model proposes nothing: the note stands alone.
    alone = unspin.check(text, sources=("fingerprints",))
    note = next(s for s in alone.spans if s.text == "scopes of distance")
    assert note.listed and note.restored == note.text
    assert note.restored_label() == "(no known original)"
    assert "gives no original" in note.evidence[0].detail
    assert "(no known original)" in render_plain(alone)
    assert [e.old for e in alone.edits] == ["counterfeit consciousness"]
    assert alone.restored_text == ("We study the scopes of distance in artificial intelligence "
                                   "systems.")
    # The list's evidence is weighed before the model's spans: nothing is held back
    # for review that the final P(spun) would flag.
    assert any(e.kind == "verdict" and "listed fingerprint" in e.detail for e in a.evidence)
    config = unspin.Config()
    threshold = config.effective_flag_threshold(core.get_bundle(config).operating_points["full"])
    assert all(a.score * s.given_spun() < threshold for s in a.suspects)


def test_spun_boilerplate_raises_the_verdict_and_is_restored() -> None:
    """Autoblogs spin their own footer ("Source link" -> "Supply hyperlink"): the
    signature is restored like a listed phrase and combined with the document model
    as an independent cue, so the verdict and the other spans see it."""
    body = ("The city council voted on Tuesday to extend the curfew by two weeks, officials "
            "stated. The choice comes after a rise in instances across the region.")
    plain = unspin.check(body)
    text = body + "\n\nSupply hyperlink"
    a = unspin.check(text)
    footer = next(s for s in a.spans if s.text == "Supply hyperlink")
    assert footer.restored == "Source link" and footer.candidates[0].sources == ("signature",)
    assert footer.evidence[0].kind == "signature"
    assert a.restored_text.endswith("\n\nSource link")
    assert unspin.apply_edits(text, a.edits) == a.restored_text
    cue = a.features["signature_cue"]
    assert cue == pytest.approx(0.9)
    model = a.features["doc_model_score"]
    assert a.score == pytest.approx(1 - (1 - model) * (1 - cue), abs=1e-12)
    assert a.score > max(model, plain.score) and a.spun
    assert any(e.kind == "verdict" and "boilerplate" in e.detail for e in a.evidence)
    # Anchored to a line of its own: "supply link" inside a sentence is logistics.
    prose = unspin.check("The port reopened and the supply link to the north was restored.")
    assert "signature_cue" not in prose.features
    assert not any(c.sources == ("signature",) for s in prose.spans for c in s.candidates)


def test_a_listed_phrase_and_a_signature_on_the_same_words_make_one_span(
        import_list: Callable[[str], None]) -> None:
    import_list('"""supply hyperlink""",source link,5\n')
    text = "Shares rose 3 percent on Tuesday.\n\nSupply hyperlink"
    a = unspin.check(text)
    footer = [s for s in a.spans if s.end > text.index("Supply")]
    assert len(footer) == 1 and footer[0].listed  # the list's span wins
    assert a.restored_text.endswith("\n\nSource link")
    assert unspin.apply_edits(text, a.edits) == a.restored_text
