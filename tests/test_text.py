"""The text layer: offsets are exact, sentences partition tokens, morphology."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unspin.text import inflect, lemmas, split_sentences, tokenize, transfer_case
from unspin.text.align import align_substitutions


def test_tokens_keep_offsets_and_fold_quotes() -> None:
    text = "The U.S. didn’t say 2,902 “cases”."
    toks = tokenize(text)
    assert [t.text for t in toks] == ["The", "U.S.", "didn’t", "say", "2,902", "“", "cases",
                                      "”", "."]
    assert all(text[t.start : t.end] == t.text for t in toks)
    assert toks[2].norm == "didn't"


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_offsets_valid_for_any_unicode(text: str) -> None:
    toks = tokenize(text)
    prev_end = 0
    for t in toks:
        assert text[t.start : t.end] == t.text
        assert t.start >= prev_end
        assert not t.text.isspace()
        prev_end = t.end
    sentences = split_sentences(text, toks)
    assert [t for s in sentences for t in s] == toks


def test_sentences_split_on_terminal_punctuation_not_initials() -> None:
    text = "J. Smith said so. Prices rose 5.5 pct. \"We agree,\" he said."
    sents = split_sentences(text, tokenize(text))
    assert [" ".join(t.text for t in s) for s in sents] == [
        "J . Smith said so .", "Prices rose 5.5 pct .", "\" We agree , \" he said .",
    ]


def test_morphology_round_trip_keeps_inflection() -> None:
    assert "instance" in lemmas("instances")
    assert inflect("case", "NNS") == "cases"
    assert inflect("say", "VBD") == "said"
    assert inflect("talk about", "VBD") == "talked about"
    assert inflect("xqzv", "VBD") is None


def test_stored_morphology_tables_answer_what_lemminflect_answers(tmp_path: Path) -> None:
    """lemminflect's tables are stored once as tries (``morph._save_table``) so a
    process need not parse them; every lookup, in every caps style, must equal
    lemminflect's own public function, from the stored table and from the
    tables in memory (what a process reads before anything is stored)."""
    import lemminflect

    from unspin.text import morph

    for kind, public, tables in (
            ("lemmas", lemminflect.getAllLemmas, morph._lemma_tables),
            ("inflections", lemminflect.getAllInflections, morph._inflection_tables)):
        table, overrides = tables()
        path = tmp_path / f"{kind}.marisa"
        morph._save_table(path, table, overrides)
        lookup = morph._stored(morph._open_table(path))
        in_memory = morph._shallow(table, overrides)  # a new cache's first process
        keys = [*sorted(set(table) | set(overrides))[::11], *overrides, "qqzzxx", ""]
        assert len(keys) > 3000
        for key in keys:
            for word in (key, key.upper(), key.capitalize(), key.title()):
                assert lookup(word) == public(word), (kind, word)
                assert in_memory(word) == public(word), (kind, word)


def test_morphology_runs_without_loading_lemminflect() -> None:
    """Once the tables are stored (the lookups above, in this process, did it),
    a new process lemmatises and inflects without importing lemminflect."""
    assert inflect("case", "NNS") == "cases" and "instance" in lemmas("instances")
    code = ("import sys; from unspin.text import inflect, lemmas; "
            "assert 'instance' in lemmas('instances') and inflect('say', 'VBD') == 'said'; "
            "assert 'lemminflect' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_damaged_stored_table_is_read_again_from_lemminflect(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stored table that cannot be read (truncated, not a trie, empty) is never
    trusted: lookups come from lemminflect's own tables, and a good table is
    written in its place."""
    from unspin.text import morph

    monkeypatch.setenv("UNSPIN_CACHE", str(tmp_path))
    version = morph._lemminflect_version()
    assert version is not None
    path = morph._table_path("lemmas", version)
    path.parent.mkdir(parents=True)
    try:
        for damage in (b"not a trie" * 20, b""):
            path.write_bytes(damage)
            morph._all_lemmas.cache_clear()
            assert morph._all_lemmas()("instances")["NOUN"] == ("instance",)
            assert morph._open_table(path) is not None  # stored again, whole
    finally:
        morph._all_lemmas.cache_clear()  # later tests open the usual cache's table


def test_transfer_case() -> None:
    assert transfer_case("Safety Council", "security council") == "Security Council"
    assert transfer_case("DYING", "death") == "DEATH"
    assert transfer_case("dying", "death") == "death"
    assert transfer_case("Dying", "death") == "Death"


def test_alignment_finds_word_and_phrase_substitutions() -> None:
    spun = "The assortment of cases rose, it talked about.\n\nSecond paragraph here."
    orig = "The number of cases rose, it said.\n\nSecond paragraph here."
    subs, n = align_substitutions(spun, orig)
    assert [(s.spun, s.original) for s in subs] == [("assortment", "number"),
                                                    ("talked about", "said")]
    assert n == 10
    assert all(spun[s.spun_start : s.spun_end] == s.spun for s in subs)
