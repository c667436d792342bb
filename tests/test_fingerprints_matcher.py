"""Matcher: the Aho-Corasick gate never loses a match the grammar would find."""

from __future__ import annotations

import json

import pytest

from conftest import SHARED
from unspin.errors import InputError
from unspin.fingerprints.document import DocumentIndex
from unspin.fingerprints.grammar import evaluate, parse
from unspin.fingerprints.matcher import FingerprintMatcher, anchor_keys
from unspin.fingerprints.store import Fingerprint, FingerprintSet, fingerprint_id, import_pps_csv

DATA = SHARED  # ../shared/data, or $UNSPIN_DATA_DIR (conftest.py)
DEV_CSV = DATA / "dev" / "pps_fingerprints_dev.csv"
REUTERS = DATA / "corpora" / "reuters21578.jsonl"


def make_set(name: str, rows: list[tuple[str, str]]) -> FingerprintSet:
    fps = tuple(Fingerprint(fingerprint_id(q), q, e, 1, i + 2) for i, (q, e) in enumerate(rows))
    return FingerprintSet(name, "test", "2024-01-01", len(fps), "-", fps)


@pytest.fixture(scope="module")
def dev_matcher() -> FingerprintMatcher:
    assert DEV_CSV.is_file(), f"dev fingerprint slice missing at {DEV_CSV}"
    return FingerprintMatcher([import_pps_csv(DEV_CSV, name="pps-dev").set])


def test_critical_neural_network_alone(dev_matcher: FingerprintMatcher) -> None:
    hits = dev_matcher.scan("We trained a neural network on the data.")
    assert [h.query for h in hits] == []
    hits = dev_matcher.scan("A brain organization, i.e. a neural network.")
    assert [(h.query, h.text, h.clause) for h in hits] == [
        ('"brain organization" AND "neural network"', "brain organization", '"brain organization"')
    ]


def test_hit_fields(dev_matcher: FingerprintMatcher) -> None:
    text = "Our counterfeit data: a Neural Organization was trained."
    [hit] = dev_matcher.scan(text)
    assert hit.list_name == "pps-dev"
    assert hit.expected == "neural network"
    assert text[hit.start : hit.end] == hit.text == "Neural Organization"
    assert hit.fingerprint_id == fingerprint_id('"neural organization"')
    assert hit.to_json()["clause"] == '"neural organization"'


def test_every_construct_through_the_gate(dev_matcher: FingerprintMatcher) -> None:
    text = (
        "Exactness was high; the accuracy too. Surface highlights were seen. "
        "The straight administrator is defined as follows. Neural organiza-\ntion again."
    )
    got = {(h.query, h.text) for h in dev_matcher.scan(text)}
    assert ('"exactness accuracy"~5', "Exactness was high; the accuracy") in got
    assert ('"surface highlights" NOT specular', "Surface highlights") in got
    assert (
        '"straight administrator" AND ("as follows" OR "equation")',
        "straight administrator",
    ) in got
    assert ('"neural organization"', "Neural organiza-\ntion") in got
    negated = dev_matcher.scan(text + " Specular light.")
    assert '"surface highlights" NOT specular' not in {h.query for h in negated}


def test_multiple_sets_each_hit_names_its_set() -> None:
    a = make_set("list-a", [('"bogus news"', "fake news")])
    b = make_set("list-b", [('"bogus news"', "fake news"), ('"phony news"', "fake news")])
    hits = FingerprintMatcher([a, b]).scan("Bogus news and phony news.")
    assert [(h.list_name, h.text) for h in hits] == [
        ("list-a", "Bogus news"),
        ("list-b", "Bogus news"),
        ("list-b", "phony news"),
    ]
    with pytest.raises(ValueError, match="unique"):
        FingerprintMatcher([a, a])


def test_wildcard_and_unanchored_queries() -> None:
    s = make_set("w", [('"neural netw*"', "x"), ('"* a"', "y")])
    m = FingerprintMatcher([s])
    assert m.unanchored == 1  # "a" is shorter than the minimum anchor
    hits = m.scan("Neural Networks b a")
    assert {h.text for h in hits} == {"Neural Networks", "b a"}


def test_anchor_keys() -> None:
    assert anchor_keys(parse('"brain organization" AND "neural network"')) == (
        ("brainorganization",),
    )
    assert anchor_keys(parse('("a1" OR "b2") AND "c3"')) == (("a1",), ("b2",))
    assert anchor_keys(parse('"expected effort UTAUT"~10')) == (("effort", "expected", "utaut"),)
    assert anchor_keys(parse('"neural netw*"')) == (("neuralnetw",),)


def test_input_validation() -> None:
    m = FingerprintMatcher([make_set("x", [('"abc"', "d")])])
    with pytest.raises(InputError, match="decode"):
        m.scan(b"abc")  # type: ignore[arg-type]
    assert FingerprintMatcher([]).scan("anything") == []


def test_gate_never_loses_a_match_on_planted_reuters(dev_matcher: FingerprintMatcher) -> None:
    """Plant every simple/AND fingerprint's phrases into real text; compare gate vs brute force."""
    assert REUTERS.is_file(), f"Reuters corpus missing at {REUTERS}"
    with REUTERS.open(encoding="utf-8") as fh:
        texts = [json.loads(next(fh))["text"] for _ in range(60)]
    s = import_pps_csv(DEV_CSV, name="pps-dev").set
    nodes = [parse(f.query) for f in s.fingerprints]
    total = 0
    for k, text in enumerate(texts):
        # plant a few query strings, with a line-break hyphen in one of them
        planted = text
        for fp in s.fingerprints[k * 29 : k * 29 + 3]:
            phrase = fp.query.split('"')[1]
            planted += f"\n{phrase}."
        planted = planted.replace("ion ", "i-\non ", 1)
        gate = {h.fingerprint_id for h in dev_matcher.scan(planted)}
        doc = DocumentIndex(planted)
        brute = {fp.id for fp, n in zip(s.fingerprints, nodes, strict=True) if evaluate(n, doc)}
        assert gate == brute
        total += len(brute)
    assert total >= 100  # the plants really produced matches
