"""Spin-invariant features and passage alignment (unit level)."""

from __future__ import annotations

from unspin.text.tokenize import tokenize
from unspin.trace.align import align_passages
from unspin.trace.features import extract_features, feature_hash, immutable_mask


def kinds_of(text: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for kind, value in extract_features(text).values:
        out.setdefault(kind, set()).add(value)
    return out


def test_names_numbers_quotes_and_sequences() -> None:
    k = kinds_of('Shares of Boeing Co rose 12 pct on Monday, analyst Jane Smith said: '
                 '"demand stays robust".')
    assert {"boeing", "co", "monday", "jane", "smith"} <= k["name"]
    assert k["number"] == {"12"}
    assert "boeing|co" in k["sequence"] and "co|12" in k["sequence"]
    assert k["quote"] == {"demand stays", "stays robust"}
    assert "shares" in k["word"] and "analyst" in k["word"]
    assert "of" not in k["word"]  # function words are never features


def test_sentence_initial_capital_is_not_a_name_unless_it_opens_one() -> None:
    k = kinds_of("Prices rose. Time Warner fell.")
    assert "prices" not in k.get("name", set())
    assert {"time", "warner"} <= k["name"]


def test_immutables_survive_a_spin() -> None:
    original = "The death toll in Paris rose to 68 on Friday, officials at UNICEF said."
    spun = "The dying toll in Paris climbed to 68 on Friday, authorities at UNICEF stated."
    imm = {(k, v) for k, v in extract_features(original).values if k != "word"}
    assert imm == {(k, v) for k, v in extract_features(spun).values if k != "word"}


def test_words_can_be_left_out_and_hashes_are_stable() -> None:
    f = extract_features("Boeing sold 12 aircraft to Qantas.", words=False)
    assert all(k != "word" for k, _ in f.values)
    assert feature_hash("name", "boeing") == feature_hash("name", "boeing")
    assert 0 <= feature_hash("name", "boeing") < 2**63
    assert len(set(f.hashes)) == len(f.hashes)


def test_mask_is_per_token() -> None:
    text = 'He met "Dr. No" in 1962.'
    assert len(immutable_mask(text, tokenize(text))) == len(tokenize(text))


def test_alignment_offsets_on_both_sides() -> None:
    spun = "The dying toll in Paris climbed to 68 on Friday, the authorities stated."
    source = "The death toll in Paris rose to 68 on Friday, the officials said."
    a = align_passages(spun, source)
    assert [(s.spun, s.source) for s in a.substitutions] == [
        ("dying", "death"), ("climbed", "rose"), ("authorities stated", "officials said")]
    for s in a.substitutions:
        assert spun[s.spun_start:s.spun_end] == s.spun
        assert source[s.source_start:s.source_end] == s.source
    assert len(a.passages) == 1
    assert 0.5 < a.coverage < 1.0 and a.immutable_coverage == 1.0


def test_alignment_of_a_fragment_and_of_unrelated_text() -> None:
    source = ("Oil prices fell on Tuesday in London. " * 3) + \
        "Separately, the Bank of Japan kept rates at 0.5 pct, governor Satoshi Sumita said."
    fragment = "The Bank of Japan held rates at 0.5 pct, governor Satoshi Sumita said."
    a = align_passages(fragment, source)
    assert len(a.passages) == 1 and a.score > 0.6
    assert a.source_coverage < a.coverage  # only part of the source was copied
    b = align_passages("Cats sleep most of the day in warm places.", source)
    assert b.passages == () and b.score < 0.2
