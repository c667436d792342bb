"""``unspin index`` / ``trace`` / ``learn-trace`` in a subprocess."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

from unspin.evaluation.datasets import load_corpus
from unspin.simulate import spin

CLI = [sys.executable, "-m", "unspin.cli.trace"]


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], input=stdin, capture_output=True, text=True,
                          timeout=300)


def test_index_trace_learn_from_the_command_line(tmp_path: Path, shared_data: Path) -> None:
    docs = [d for d in load_corpus("reuters")[:80] if len(d.text.split()) >= 60][:40]
    src = tmp_path / "stories.jsonl"
    src.write_text("".join(json.dumps({"id": d.id, "text": d.text, "title": d.title}) + "\n"
                           for d in docs), encoding="utf-8")
    idx = tmp_path / "idx"
    proc = run("index", "build", "--out", str(idx), "--processes", "1", str(src))
    assert proc.returncode == 0, proc.stderr
    assert "added 40 documents" in proc.stdout
    # appending the same file skips every id
    proc = run("index", "build", "--out", str(idx), "--processes", "1", str(src))
    assert proc.returncode == 0 and "40 duplicate ids" in proc.stdout
    info = json.loads(run("index", "info", str(idx)).stdout)
    assert info["documents"] == 40 and "weights" in info["params"]

    spun = spin(docs[5].text, "d", seed=2).text
    proc = run("trace", "--index", str(idx), "--json", "-", stdin=spun)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["schema"] == "unspin.trace/1" and out["matches"][0]["id"] == docs[5].id
    first = out["matches"][0]["alignment"][0]
    assert spun[first["spun_start"]:first["spun_end"]] == first["spun"]

    proc = run("trace", "--index", str(idx), "-", stdin=spun)  # not a tty: plain view
    assert proc.returncode == 0 and docs[5].id in proc.stdout and "->" in proc.stdout

    other = load_corpus("bbc")[3].text
    proc = run("trace", "--index", str(idx), "-", stdin=other)
    assert proc.returncode == 0 and "no source found" in proc.stdout
    proc = run("trace", "--index", str(idx), "--json", "-", stdin=other)
    assert json.loads(proc.stdout)["matches"] == []

    spun_dir = tmp_path / "spun"
    spun_dir.mkdir()
    for k, d in enumerate(docs[:8]):
        (spun_dir / f"{k}.txt").write_text(spin(d.text, "c", seed=k).text, encoding="utf-8")
    table, review = tmp_path / "t.tsv", tmp_path / "r.csv"
    proc = run("learn-trace", "run", "--index", str(idx), "--out", str(table),
               "--review", str(review), str(spun_dir))
    assert proc.returncode == 0, proc.stderr
    assert "traced 8 of 8" in proc.stdout
    with review.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    rows[0]["decision"] = "accept"
    with review.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    proc = run("learn-trace", "apply-review", str(review), "--table", str(table))
    assert proc.returncode == 0 and "1 accepted" in proc.stdout
    assert "\taccepted" in table.read_text(encoding="utf-8")


def test_errors_are_one_line(tmp_path: Path) -> None:
    proc = run("trace", "--index", str(tmp_path / "none"), "-", stdin="Some text.")
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "no trace index" in proc.stderr
    proc = run("index", "build", "--out", str(tmp_path / "i"), str(tmp_path / "missing.jsonl"))
    assert proc.returncode == 1 and "no such file" in proc.stderr
    (tmp_path / "x.bin").write_bytes(b"\x00\x01")
    proc = run("index", "build", "--out", str(tmp_path / "j"), str(tmp_path / "x.bin"))
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1
    assert "unsupported input format" in proc.stderr


def test_warc_input_goes_through_the_shared_reader(tmp_path: Path) -> None:
    body = b"Boeing sold 12 jets to Qantas on Monday, the company said in Sydney."
    head = (b"WARC/1.0\r\nWARC-Type: conversion\r\nWARC-Target-URI: http://example.com/a\r\n"
            b"WARC-Record-ID: <urn:uuid:1>\r\nContent-Type: text/plain\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n")
    (tmp_path / "c.wet").write_bytes(head + body + b"\r\n\r\n")
    proc = run("index", "build", "--out", str(tmp_path / "i"), "--processes", "1",
               str(tmp_path / "c.wet"))
    assert proc.returncode == 0 and "added 1 documents" in proc.stdout, proc.stderr
