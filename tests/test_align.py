"""Token alignment of spun vs original text."""

from __future__ import annotations

from unspin.evaluation.align import align
from unspin.evaluation.datasets import load_real_pairs


def test_simple_substitutions() -> None:
    orig = "The number of cases rose to 2,902 on Saturday, it said."
    spun = "The assortment of cases rose to 2,902 on Saturday, it talked about."
    a = align(spun, orig)
    pairs = [(s.spun, s.original) for s in a.substitutions]
    assert pairs == [("assortment", "number"), ("talked about", "said")]
    for s in a.substitutions:
        assert spun[s.spun_start : s.spun_end] == s.spun
        assert orig[s.orig_start : s.orig_end] == s.original
    assert not a.inserted and not a.deleted


def test_inserts_deletes_and_long_replacements() -> None:
    orig = "He went home early. One two three four five six seven eight."
    spun = "He certainly went home. Alpha beta gamma delta epsilon zeta eta theta."
    a = align(spun, orig, by_paragraph=False)
    assert [g.text for g in a.inserted] == ["certainly"]
    assert [g.text for g in a.deleted] == ["early"]
    assert len(a.unaligned) == 1 and a.unaligned[0].text.startswith("Alpha")


def test_case_and_quote_folding_are_not_substitutions() -> None:
    a = align("NEW DELHI: the ministry’s data", "New Delhi: the ministry's data")
    assert a.substitutions == ()


def test_paragraph_by_paragraph() -> None:
    orig = "First para said this.\n\nSecond para said that."
    spun = "First para mentioned this.\n\nSecond para stated that."
    a = align(spun, orig)
    assert [(s.spun, s.original) for s in a.substitutions] == [
        ("mentioned", "said"), ("stated", "said")]


def test_real_pairs_align() -> None:
    pairs = load_real_pairs()  # fails loudly if ../shared/data is missing
    assert len(pairs) == 3
    for p in pairs:
        a = align(p.spun_text, p.original_text)
        assert len(a.substitutions) >= 10
        assert not a.unaligned
        got = {(s.spun.lower(), s.original.lower()) for s in a.substitutions}
        assert got & {("assortment", "number"), ("stated", "said"), ("concept", "idea")}
