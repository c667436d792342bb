"""n-gram models: the Kneser-Ney builder writes valid ARPA that kenlm reads."""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

import pytest

from unspin.errors import ResourceError
from unspin.lm.ngram import NgramLM, build_ngram, mix_ngram

CORPUS = [
    "The number of cases rose on Monday. The death toll rose to 68.",
    "The number of deaths rose sharply. Officials said the toll rose.",
    "The council said the number of cases fell on Tuesday.",
] * 5


def test_build_and_query(tmp_path: Path) -> None:
    path = build_ngram(CORPUS, tmp_path / "m.arpa")
    lm = NgramLM(path)
    assert lm.order == 3
    good = lm.sentence_logprob(["the", "number", "of", "cases", "rose"])
    bad = lm.sentence_logprob(["the", "assortment", "of", "cases", "rose"])
    shuffled = lm.sentence_logprob(["cases", "of", "rose", "the", "number"])
    assert good > bad
    assert good > shuffled
    # a proper distribution over the vocabulary after a context
    vocab = {w for line in CORPUS for w in line.lower().replace(".", "").split()}
    state = lm.new_state()
    _, state = lm.advance(state, "the")
    total = sum(math.exp(lm.advance(state, w)[0]) for w in [*vocab, "</s>"])
    assert 0.9 < total <= 1.0001


def test_empty_corpus_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no text"):
        build_ngram(["...", "!!"], tmp_path / "m.arpa")


def test_missing_model_teaches(tmp_path: Path) -> None:
    with pytest.raises(ResourceError, match="unspin lm build"):
        NgramLM(tmp_path / "none.arpa")


OTHER = [
    "Prices of wheat rose in Chicago on Friday. Traders said supplies were tight.",
    "The council approved the budget. Wheat exports fell sharply.",
] * 4


def _vocab(corpus: list[str]) -> set[str]:
    return {w.strip(".,") for line in corpus for w in line.lower().split()}


def test_mixture_is_the_weighted_sum_and_a_distribution(tmp_path: Path) -> None:
    a = build_ngram(CORPUS, tmp_path / "a.arpa")
    b = build_ngram(OTHER, tmp_path / "b.arpa")
    m = NgramLM(mix_ngram(a, b, 0.3, tmp_path / "m.arpa"))
    la, lb = NgramLM(a), NgramLM(b)
    vocab = _vocab(CORPUS) | _vocab(OTHER)

    def p(lm: NgramLM, context: list[str], word: str) -> float:
        state = lm.new_state(bos=bool(context))  # no context: the unigram
        for w in context:
            _, state = lm.advance(state, w)
        return math.exp(lm.advance(state, word)[0])

    # n-grams listed in either model, their word known to both: the weighted sum
    # (to ARPA's six decimals)
    for context, word in [(["the", "number"], "of"), (["the"], "council"),
                          (["said"], "the"), ([], "the"), (["the", "council"], "said")]:
        want = 0.3 * p(la, context, word) + 0.7 * p(lb, context, word)
        assert math.isclose(p(m, context, word), want, rel_tol=1e-4), (context, word)
    # a word one model never saw gets a share of that model's <unk> in the context
    for context, word in [(["wheat"], "exports"), ([], "chicago")]:
        assert word not in _vocab(CORPUS)
        floor = 0.7 * p(lb, context, word)
        assert floor < p(m, context, word) < floor + 0.3 * p(la, context, "<unk>")
    # every context's distribution sums to one over both vocabularies
    for context in (["the"], ["the", "number"], ["wheat"], ["council", "approved"], []):
        state = m.new_state()
        for w in context:
            _, state = m.advance(state, w)
        total = sum(math.exp(m.advance(state, w)[0]) for w in [*vocab, "</s>", "<unk>"])
        assert 0.99 < total < 1.01, context


def test_mixture_weight_and_paths_are_checked(tmp_path: Path) -> None:
    a = build_ngram(CORPUS, tmp_path / "a.arpa")
    with pytest.raises(ValueError, match="between 0 and 1"):
        mix_ngram(a, a, 1.0, tmp_path / "m.arpa")
    with pytest.raises(ResourceError, match="not found"):
        mix_ngram(a, tmp_path / "none.arpa", 0.5, tmp_path / "m.arpa")


def test_cli_mixes_with_the_default_model(tmp_path: Path, unspin_cli: list[str]) -> None:
    corpus = tmp_path / "archive.txt"
    corpus.write_text("\n".join(OTHER), encoding="utf-8")
    small = tmp_path / "small.arpa"
    built = subprocess.run([*unspin_cli, "lm", "build", str(corpus), "--out", str(small)],
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    mixed = tmp_path / "mixed.arpa"
    run = subprocess.run([*unspin_cli, "lm", "mix", str(small), "--out", str(mixed),
                          "--weight", "0.4"], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    lm, alone = NgramLM(mixed), NgramLM(small)
    # the archive's collocation survives, and a word it never saw is in the vocabulary
    assert lm.sentence_logprob(["wheat", "exports", "fell"]) > lm.sentence_logprob(
        ["wheat", "exports", "cases"])
    unk = lm.unigram_logprob("<unk>")
    assert lm.unigram_logprob("hospital") > unk
    assert alone.unigram_logprob("hospital") == alone.unigram_logprob("<unk>")
    bad = subprocess.run([*unspin_cli, "lm", "mix", str(small), str(small), "--weight", "1"],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    assert "between 0 and 1" in bad.stderr
