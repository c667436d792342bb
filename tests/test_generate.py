"""`unspin lm generate`: a corpus the shipped neural LM writes, resumable and reproducible.

The sampling tests load the real model (engine); the prompt and text
helpers are pure.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from unspin.errors import InputError
from unspin.lm.generate import (
    GENRES,
    SCHEMA,
    GenerationSettings,
    clean_text,
    generate_corpus,
    prompt_for,
)

SMALL = GenerationSettings(seed=3, batch=2, max_new_tokens=24)


def test_prompts_are_a_function_of_index_and_seed() -> None:
    assert prompt_for(5, 0) == prompt_for(5, 0)
    prompts = {prompt_for(i, 0) for i in range(200)}
    assert len(prompts) > 150  # varied, not a handful repeated
    assert {genre for genre, _ in prompts} == {genre for genre, _ in GENRES}
    assert [prompt_for(i, 1) for i in range(20)] != [prompt_for(i, 0) for i in range(20)]


def test_a_text_cut_by_the_budget_ends_at_its_last_full_sentence() -> None:
    assert clean_text("One sentence. Two sent", finished=False) == "One sentence."
    assert clean_text('He said "yes." Then the', finished=False) == 'He said "yes."'
    assert clean_text("No end at all", finished=False) == ""
    assert clean_text(" Whole text, ended by the model ", finished=True) == (
        "Whole text, ended by the model")


@pytest.mark.engine
def test_generates_resumes_and_reproduces(tmp_path: Path) -> None:
    whole = tmp_path / "whole.jsonl"
    result = generate_corpus(whole, tokens=60, settings=SMALL)
    lines = whole.read_text(encoding="utf-8").splitlines()
    assert result.records == len(lines) and result.records % SMALL.batch == 0
    assert result.new_tokens >= 60
    records = [json.loads(line) for line in lines]
    assert [r["id"] for r in records] == [f"gen-{i:07d}" for i in range(len(records))]
    assert all(r["schema"] == SCHEMA and r["settings"]["seed"] == 3 for r in records)
    assert sum(bool(r["text"]) for r in records) >= len(records) // 2

    # the same records, written by two runs: one batch, then the rest
    parts = tmp_path / "parts.jsonl"
    first = generate_corpus(parts, tokens=1, settings=SMALL)
    assert first.records == SMALL.batch
    # an interrupted write leaves a torn line; the resume drops it
    with parts.open("a", encoding="utf-8") as fh:
        fh.write('{"schema": "unspin.generated/1", "id": "gen-00')
    generate_corpus(parts, tokens=result.new_tokens - first.new_tokens, settings=SMALL)
    assert parts.read_text(encoding="utf-8") == whole.read_text(encoding="utf-8")


@pytest.mark.engine
def test_other_settings_are_refused_rather_than_mixed_in(tmp_path: Path) -> None:
    out = tmp_path / "c.jsonl"
    generate_corpus(out, tokens=1, settings=SMALL)
    with pytest.raises(InputError, match="generated with"):
        generate_corpus(out, tokens=1, settings=GenerationSettings(seed=4, batch=2,
                                                                   max_new_tokens=24))
    foreign = tmp_path / "f.jsonl"
    foreign.write_text('{"text": "someone else\'s corpus"}\n', encoding="utf-8")
    with pytest.raises(InputError, match="not a corpus written by"):
        generate_corpus(foreign, tokens=1, settings=SMALL)


@pytest.mark.engine
def test_cli_writes_a_corpus_that_lm_build_reads(tmp_path: Path) -> None:
    out, model = tmp_path / "c.jsonl", tmp_path / "m.arpa"
    cli = [sys.executable, "-m", "unspin.cli.main"]
    gen = subprocess.run([*cli, "lm", "generate", str(out), "--tokens", "40", "--batch", "2",
                          "--max-new", "32", "--threads", "1"],
                         capture_output=True, text=True, timeout=300)
    assert gen.returncode == 0, gen.stderr
    assert "records" in gen.stdout and out.is_file()
    built = subprocess.run([*cli, "lm", "build", str(out), "--out", str(model)],
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    assert model.read_text(encoding="utf-8").startswith("\\data\\")
    bad = subprocess.run([*cli, "lm", "generate", str(out), "--tokens", "40", "--batch", "4"],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    assert "generated with" in bad.stderr
