"""Signatures: boilerplate, leaked originals and family attribution."""

from __future__ import annotations

import re

import pytest

from unspin.fingerprints.signatures import (
    SIGNATURES,
    attribute_family,
    find_signatures,
    leak_support,
    leaked_words,
    signature_evidence,
)
from unspin.types import Evidence


def test_table_is_documented_and_valid() -> None:
    assert len({s.id for s in SIGNATURES}) == len(SIGNATURES)
    for s in SIGNATURES:
        re.compile(s.pattern)
        assert s.original and s.family and s.note and 0 < s.weight <= 1


def test_supply_hyperlink_with_offsets() -> None:
    text = "Oil prices rose on Monday.\n\nSupply hyperlink\n"
    [hit] = find_signatures(text)
    assert (hit.original, hit.family) == ("Source link", "autoblog-footer")
    assert text[hit.start : hit.end] == "Supply hyperlink"
    [ev] = signature_evidence(text)
    assert ev.kind == "signature" and f"at {hit.start}-{hit.end}" in ev.detail


def test_line_anchored_patterns_do_not_fire_in_prose() -> None:
    assert find_signatures("The pipeline is a vital supply link for Europe.") == []
    assert find_signatures("Learn more about the company here.") == []
    hits = find_signatures("Story text.\nSupply link\nLearn extra »")
    assert [h.original for h in hits] == ["Source link", "Read more"]
    assert [h.text for h in hits] == ["Supply link", "Learn extra"]


def test_disclaimer_and_byline_variants() -> None:
    text = (
        "Denial of responsibility! This site is an aggregator.\n"
        "Reporting via Jane Doe; Modifying by Sam Holmes"
    )
    fams = [h.family for h in find_signatures(text)]
    assert fams == ["aggregator-disclaimer", "autoblog-footer", "autoblog-footer"]


def test_clean_text_has_no_signatures() -> None:
    clean = (
        "The number of cases rose to 2,902 while the death toll rose to 68, "
        "according to the Health Ministry. Reporting by Jane Doe; Editing by Sam Holmes."
    )
    assert find_signatures(clean) == []
    assert attribute_family(signature_evidence(clean)) is None


def test_attribute_family_needs_support() -> None:
    assert attribute_family([]) is None
    assert attribute_family([Evidence("leaked", "putin", 1.0)]) is None
    weak = [Evidence("signature", "x-cue [autoblog-footer] 'x' at 0-1 is spun 'y'", 0.3)]
    assert attribute_family(weak) is None  # one weak cue is not enough
    strong = signature_evidence("Text.\nSupply hyperlink\nLearn extra")
    fam = attribute_family(strong)
    assert fam is not None and fam[0] == "autoblog-footer" and fam[1] > 0.9
    lexical = signature_evidence("The dying toll rose; the assortment of cases grew.")
    assert lexical == []  # idioms are the model's job, not the boilerplate table's


def test_attribute_family_conflict_lowers_or_withholds() -> None:
    both = signature_evidence("Supply hyperlink. Denial of responsibility!")
    assert attribute_family(both) is None  # two strong families: no single answer
    repeated = signature_evidence("Supply hyperlink " * 10)
    fam = attribute_family(repeated)
    assert fam is not None and abs(fam[1] - 0.9) < 1e-9  # a repeated footer counts once


def test_leaked_words_hashtags_and_slugs() -> None:
    text = (
        "#Putin #visits #North #Korea #time #years #NorthKorea #2024 "
        "https://www.rajasthancoverage.com/2020/04/04/"
        "coronavirus-indias-covid-19-dying-toll-rises/ "
        "www.example.com/news/oil_prices_rise.html?utm=a-b"
    )
    words = leaked_words(text)
    assert {"putin", "visits", "north", "korea", "time", "years"} <= words
    assert {
        "coronavirus",
        "indias",
        "covid",
        "dying",
        "toll",
        "rises",
        "oil",
        "prices",
        "rise",
    } <= words
    assert not words & {"2024", "2020", "www", "com", "html", "utm", "19"}


def test_leaked_words_negative() -> None:
    assert leaked_words("Price: $5 #1 deal, email a&b#c, see https://x.com/2020/04/id123") == set()


def test_leak_support() -> None:
    leaked = {"covid", "death", "toll", "rises", "cases"}
    assert leak_support("death toll", leaked)
    assert leak_support("the case", leaked)  # plural folded, stop word ignored
    assert not leak_support("dying", leaked)
    assert not leak_support("the of", leaked)


def test_the_one_pass_precheck_never_hides_a_signature(monkeypatch: pytest.MonkeyPatch) -> None:
    """``find_signatures`` first asks one alternation of every pattern whether any
    signature is there at all; its answers must equal running every pattern."""
    import unspin.fingerprints.signatures as sig

    texts = [
        "Oil prices rose on Monday.\n\nSupply hyperlink\n",
        "Story text.\nSupply link\nLearn extra »",
        "Denial of responsibility! This site is an aggregator.\n"
        "Reporting via Jane Doe; Modifying by Sam Holmes",
        "The pipeline is a vital supply link for Europe. Learn more about it here.",
        "x\n  Learn additional  …\n\tSupply link:\nRenunciation of responsibility and "
        "Learn More Right Here; Enhancing through Reuters",
        "",
        "no signature in this one at all",
    ]
    fast = [find_signatures(t) for t in texts]
    monkeypatch.setattr(sig, "_ANY", re.compile(""))  # matches every text: no shortcut
    assert fast == [find_signatures(t) for t in texts]
    assert sum(map(len, fast)) >= 10
