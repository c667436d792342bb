"""Grammar: every operator has a positive, a negative and an edge case."""

from __future__ import annotations

import pytest

from unspin.errors import FormatError
from unspin.fingerprints.document import DocumentIndex, gate_string, pieces_of
from unspin.fingerprints.grammar import (
    And,
    Not,
    Or,
    Phrase,
    Proximity,
    Term,
    evaluate,
    features,
    occurs,
    parse,
)


def spans(query: str, text: str) -> list[str]:
    return [text[m.start : m.end] for m in evaluate(query, text)]


# ---------------------------------------------------------------- parsing


def test_ast_shapes() -> None:
    assert parse('"malignant growth"') == Phrase(("malignant", "growth"), ())
    assert parse('"a b"~5') == Proximity(("a", "b"), 5)
    assert parse("specular") == Term(("specular",), ())
    assert parse('"a" AND "b"') == And((Phrase(("a",), ()), Phrase(("b",), ())))
    assert parse('"a" OR "b"') == Or((Phrase(("a",), ()), Phrase(("b",), ())))
    assert parse('"a" NOT b') == Not(Phrase(("a",), ()), Term(("b",), ()))
    assert parse('"neural netw*"') == Phrase(("neural", "netw*"), (1,))
    assert parse('"neural * network"') == Phrase(("neural", "*", "network"), (1,))


def test_precedence_not_over_and_over_or() -> None:
    a, b, c, d = (Phrase((w,), ()) for w in "abcd")
    assert parse('"a" OR "b" AND "c" NOT "d"') == Or((a, And((b, Not(c, d)))))
    assert parse('("a" OR "b") AND "c"') == And((Or((a, b)), c))
    assert parse('"a" AND ("b" OR ("c" AND "d"))') == And((a, Or((b, And((c, d))))))


def test_and_not_is_not() -> None:
    assert parse('"a" AND NOT "b"') == parse('"a" NOT "b"')


def test_canonical_text_round_trips() -> None:
    for q in (
        '"straight administrator" AND ("as follows" OR "equation")',
        '"a" OR "b" AND "c" NOT ("d" OR "e")',
        '"exactness accuracy"~5',
        '"Data Innovation (IT)" NOT specular',
    ):
        node = parse(q)
        assert parse(str(node)) == node


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("", "empty query"),
        ('"unclosed', "unclosed quote"),
        ('""', "empty phrase"),
        ('"*"', "only wildcards"),
        ('"a" "b"', "missing operator"),
        ('"a" AND', "ends after an operator"),
        ('NOT "a"', "no positive clause"),
        ('("a" OR "b"', "never closed"),
        ('"a")', "unbalanced ')'"),
        ("()", "empty parentheses"),
        ('"a b"~x', "must be followed by a number"),
        ("foo~2", "fuzzy search"),
        ('"a" && "b"', "not supported"),
        ('-"a"', "prefix"),
        ('"a" OR OR "b"', "needs a clause"),
    ],
)
def test_parse_errors_are_one_line_format_errors(query: str, reason: str) -> None:
    with pytest.raises(FormatError) as info:
        parse(query)
    assert reason in str(info.value)
    assert "\n" not in str(info.value)


def test_features() -> None:
    assert features(parse('"a b" AND ("c" OR d*)')) == {"and", "or", "phrase", "term", "wildcard"}


# ---------------------------------------------------------------- phrase


def test_phrase_positive_case_insensitive() -> None:
    assert spans('"counterfeit consciousness"', "Counterfeit Consciousness rules.") == [
        "Counterfeit Consciousness"
    ]


def test_phrase_negative_word_boundaries() -> None:
    assert spans('"bosom"', "bosoms and unbosom") == []
    assert spans('"neural network"', "neural and network") == []


def test_phrase_edge_hyphens_fold_both_ways() -> None:
    assert spans('"machine learning"', "a machine-learning model") == ["machine-learning"]
    assert spans('"ok-means"', "the ok means method") == ["ok means"]
    # U+2011 non-breaking hyphens in the query (as in the PPS export)
    assert spans('"man\u2011in\u2011the\u2011iddle"', "a man-in-the-iddle attack") == [
        "man-in-the-iddle"
    ]


def test_phrase_edge_pdf_line_break_hyphenation() -> None:
    text = "deep learn-\ning and machine-\nlearning and ma-\n  chine learning"
    assert spans('"learning"', text)[0] == "learn-\ning"
    # a line break on the hyphen of a real compound still matches either reading
    assert spans('"machine learning"', text) == ["machine-\nlearning", "ma-\n  chine learning"]
    # a hyphen without a line break is a separator, not hyphenation
    assert spans('"learning"', "learn-ing") == []


def test_phrase_edge_punctuation_inside_quotes() -> None:
    text = "Data Innovation (IT) and data innovation ( IT ) but not Data Innovation IT"
    assert spans('"Data Innovation (IT)"', text) == [
        "Data Innovation (IT)",
        "data innovation ( IT )",
    ]


def test_phrase_offsets_are_exact_with_non_ascii() -> None:
    text = "Ünïcode — prototypical β-glucan here"
    [m] = evaluate('"prototypical β-glucan"', text)
    assert text[m.start : m.end] == "prototypical β-glucan"


# ---------------------------------------------------------------- wildcard


def test_wildcard_inside_word() -> None:
    text = "Neural Networks, neural netizens, neural-network, neural nets"
    assert spans('"neural netw*"', text) == ["Neural Networks", "neural-network"]


def test_wildcard_negative_prefix_only() -> None:
    assert spans('"neural netw*"', "neural net") == []
    assert spans('"*work"', "network") == ["network"]


def test_wildcard_whole_word_matches_exactly_one_word() -> None:
    assert spans('"neural * network"', "neural deep network") == ["neural deep network"]
    assert spans('"neural * network"', "neural network") == []
    assert spans('"neural * network"', "neural , network") == []


# ---------------------------------------------------------------- term


def test_term_positive_negative_edge() -> None:
    assert occurs("specular", "Specular reflection")
    assert not occurs("specular", "speculars")
    assert occurs("SVM", "an svm classifier")
    assert occurs("K-means", "k means clustering")


# ---------------------------------------------------------------- proximity


def test_proximity_any_order_within_n() -> None:
    text = "the accuracy of the model, exactness being key"
    assert spans('"exactness accuracy"~5', text) == ["accuracy of the model, exactness"]


def test_proximity_negative_too_far() -> None:
    text = "the accuracy of the model, exactness being key"
    assert spans('"exactness accuracy"~2', text) == []
    assert spans('"exactness accuracy"~3', text) != []  # exactly 3 words in between


def test_proximity_edge_distinct_positions_and_punctuation() -> None:
    assert spans('"precise precise"~0', "precise here") == []
    assert spans('"precise precise"~0', "precise, precise") == ["precise, precise"]
    assert spans('"a b c"~0', "c a b") == ["c a b"]
    # three words, ~2: up to two other words in between, so the window is 5 words
    assert occurs('"revolution scaling interpretation"~2', "interpretation, x revolution y scaling")
    assert not occurs(
        '"revolution scaling interpretation"~2', "interpretation x revolution y z scaling"
    )


# ---------------------------------------------------------------- and / or / not


def test_and_needs_both_and_reports_first() -> None:
    q = '"brain organization" AND "neural network"'
    assert spans(q, "A neural network is a brain organization.") == ["brain organization"]
    assert [m.clause for m in evaluate(q, "brain organization; neural network")] == [
        '"brain organization"'
    ]


def test_and_critical_neural_network_alone_does_not_match() -> None:
    assert (
        evaluate('"brain organization" AND "neural network"', "We trained a neural network.") == []
    )


def test_and_edge_every_occurrence_of_first_clause() -> None:
    text = "bosom, then breast, then bosom again"
    assert spans('"bosom" AND "breast"', text) == ["bosom", "bosom"]


def test_or_positive_negative_edge() -> None:
    q = '"straight administrator" AND ("as follows" OR "equation")'
    assert occurs(q, "the straight administrator is given as follows")
    assert not occurs(q, "the straight administrator")
    both = evaluate('"as follows" OR "equation"', "equation as follows")
    assert [m.clause for m in both] == ['"equation"', '"as follows"']  # sorted by position


def test_not_anywhere_in_document() -> None:
    q = '"surface highlights" NOT specular'
    assert occurs(q, "Surface highlights were extracted.")
    assert not occurs(q, "Surface highlights. Much later: specular reflection.")
    # edge: the negative clause is checked on the whole document, even before A
    assert not occurs(q, "Specular. Surface highlights.")


def test_not_with_phrase_negative() -> None:
    q = '"magnetic cell separation" NOT "with MACS"'
    assert occurs(q, "magnetic cell separation with magnetic beads")
    assert not occurs(q, "magnetic cell separation with MACS")
    # hyphen folding applies to negative clauses too: "MACS-like" contains "macs"
    assert not occurs(q, "magnetic cell separation with MACS-like beads")


# ---------------------------------------------------------------- document folding


def test_gate_string_equals_concatenated_pieces() -> None:
    for text in (
        "Machine-\nlearning, deep learn-\ning\x1c and K-means -- x",
        "A brain organization (BO) and neural\tnetworks; 2,902 cases.",
        "Ünïcode “quotes” — β-glucan man\u2011in\u2011the\u2011middle",
    ):
        assert gate_string(text) == "".join(p.norm for p in pieces_of(text))


def test_word_positions_skip_punctuation() -> None:
    doc = DocumentIndex("a , b")
    assert [p.wpos for p in doc.pieces if p.is_word] == [0, 1]
