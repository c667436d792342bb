"""Spinner simulator: exact offsets, determinism, protection rules, profiles."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from unspin.simulate import PROFILES, spin
from unspin.simulate.phrases import PHRASE_TABLE
from unspin.simulate.spinner import STOP_WORDS

TEXT = (
    "The company said prices rose sharply in the country last week, and analysts "
    "expected more increases. Officials said the government would support farmers "
    "with new loans.\n\n"
    'Prime Minister John Howard told reporters "the economy remains strong" on Monday, '
    "while 2,902 people were affected by the problem at least in three regions."
)
SRC = Path(__file__).resolve().parents[1] / "src" / "unspin"


def _check_offsets(doc_text: str, original: str, subs: tuple) -> None:  # type: ignore[type-arg]
    for s in subs:
        assert doc_text[s.spun_start : s.spun_end] == s.spun
        assert original[s.orig_start : s.orig_end] == s.original
    # replaying the substitutions on the original gives the spun text
    out, last = [], 0
    for s in subs:
        out.append(original[last : s.orig_start])
        out.append(s.spun)
        last = s.orig_end
    out.append(original[last:])
    assert "".join(out) == doc_text


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_offsets_exact_and_deterministic(profile: str) -> None:
    for seed in range(4):
        doc = spin(TEXT, profile, seed)
        assert doc.original == TEXT
        _check_offsets(doc.text, TEXT, doc.substitutions)
        assert doc == spin(TEXT, profile, seed)
    assert any(spin(TEXT, profile, s).substitutions for s in range(4))


def test_names_numbers_quotes_protected() -> None:
    for profile in PROFILES:
        for seed in range(6):
            doc = spin(TEXT, profile, seed, rate=1.0)
            for name in ("Prime Minister John Howard", "2,902", '"the economy remains strong"',
                         "Monday"):
                assert name in doc.text, (profile, seed, name)


def test_no_protection_touches_names() -> None:
    changed = False
    for seed in range(10):
        doc = spin(TEXT, "a", seed, rate=1.0, protect_names=False)
        quote = TEXT.index('"the')
        changed |= any(s.orig_start > quote and s.orig_end < TEXT.index("on Monday")
                       for s in doc.substitutions)
    assert changed


def test_stop_words_only_through_phrase_table() -> None:
    for profile in ("a", "b", "d"):
        for seed in range(5):
            for s in spin(TEXT, profile, seed, rate=1.0).substitutions:
                assert s.original.lower() not in STOP_WORDS, (profile, s)
    sources = {s.profile_source for seed in range(5) for s in spin(TEXT, "c", seed).substitutions}
    assert "phrase" in sources
    for seed in range(5):
        for s in spin(TEXT, "c", seed).substitutions:
            if s.profile_source == "phrase":
                assert tuple(s.original.lower().split()) in PHRASE_TABLE


def test_rate_roughly_respected_and_d_is_heavier() -> None:
    light = sum(len(spin(TEXT, "a", s, rate=0.1).substitutions) for s in range(10))
    heavy = sum(len(spin(TEXT, "d", s).substitutions) for s in range(10))
    assert light < heavy


def test_inflection_and_case_kept() -> None:
    doc = spin("Cases rose. The cases rose.", "a", 1, rate=1.0)
    for s in doc.substitutions:
        if s.original == "Cases":
            assert s.spun[:1].isupper()
        if s.original in {"cases", "Cases"}:
            assert s.spun.endswith("s")


def test_spell_numbers() -> None:
    seen: set[str] = set()
    for seed in range(10):
        doc = spin("He had 2 dogs and 2,902 cats.", "a", seed, rate=0.0, spell_numbers=True)
        _check_offsets(doc.text, doc.original, doc.substitutions)
        seen.update(s.spun for s in doc.substitutions)
    assert "two" in seen


def test_phrase_table_size() -> None:
    assert len(PHRASE_TABLE) >= 80


def test_bad_arguments_teach() -> None:
    with pytest.raises(ValueError, match="valid profiles"):
        spin(TEXT, "z", 0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        spin(TEXT, "a", 0, rate=2.0)
    with pytest.raises(TypeError, match="decode"):
        spin(b"bytes", "a", 0)  # type: ignore[arg-type]


def test_restorer_never_imports_simulate() -> None:
    """The phrase table is evaluation data: nothing outside simulate/evaluation/cli may use it."""
    allowed = {"simulate", "evaluation", "cli"}
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC)
        if rel.parts[0] in allowed:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not any(n.startswith("unspin.simulate") for n in names), rel


def test_cli_spin_json_subprocess() -> None:
    proc = subprocess.run(
        # rate 0: phrase table only, so the subprocess need not load a thesaurus
        [sys.executable, "-m", "unspin.cli.bench", "spin", "-", "--profile", "c", "--seed", "3",
         "--rate", "0", "--json"],
        input=TEXT, capture_output=True, text=True, timeout=120, check=True,
    )
    data = json.loads(proc.stdout)
    assert data["original"] == TEXT
    assert data["substitutions"]
    for s in data["substitutions"]:
        assert data["text"][s["spun_start"] : s["spun_end"]] == s["spun"]
        assert TEXT[s["orig_start"] : s["orig_end"]] == s["original"]
    bad = subprocess.run(
        [sys.executable, "-m", "unspin.cli.bench", "spin", "-", "--profile", "x"],
        input="x", capture_output=True, text=True, timeout=120,
    )
    assert bad.returncode == 2 and "valid profiles" in bad.stderr
