"""n-gram models: the Kneser-Ney builder writes valid ARPA that kenlm reads."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from unspin.errors import ResourceError
from unspin.lm.ngram import NgramLM, build_ngram

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
