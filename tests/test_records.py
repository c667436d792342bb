"""The record reader: every format, deterministic ids, bad input as error records."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from unspin.io import records
from unspin.io.records import count_records, expand_inputs, iter_file, iter_records


def test_txt_and_missing(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Hello there, world.", encoding="utf-8")
    recs = list(iter_records([str(tmp_path / "a.txt"), str(tmp_path / "nope.txt")]))
    assert [r.error for r in recs] == [None, "no such file"]
    assert recs[0].text == "Hello there, world."
    assert recs[0].id == str(tmp_path / "a.txt")


def test_jsonl_ids_chunks_and_bad_lines(tmp_path: Path) -> None:
    lines = [json.dumps({"id": i, "body": f"text {i}"}) for i in range(7)]
    lines[3] = "{not json"
    f = tmp_path / "x.jsonl.gz"
    with gzip.open(f, "wt", encoding="utf-8") as fh:
        fh.write("\n".join(lines[:5]) + "\n\n" + "\n".join(lines[5:]) + "\n")
    recs = list(iter_file(str(f), text_field="body"))
    assert len(recs) == 7 == count_records(str(f), "body")
    assert recs[3].error is not None and recs[3].error.startswith("invalid JSON")
    assert recs[6].id == f"{f}:8"  # the blank line keeps its number
    assert recs[0].key == "0"
    chunk = list(iter_file(str(f), text_field="body", start=2, stop=5))
    assert [r.index for r in chunk] == [2, 3, 4]
    assert [r.id for r in chunk] == [r.id for r in recs[2:5]]
    assert [r.id for r in iter_file(str(f), "body")] == [r.id for r in recs]


def test_too_large_is_an_error_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(records, "MAX_RECORD_BYTES", 10)
    (tmp_path / "big.txt").write_text("x" * 50, encoding="utf-8")
    (rec,) = iter_file(str(tmp_path / "big.txt"))
    assert rec.text is None and rec.error is not None and "cap" in rec.error


def test_listing_and_folder_expansion(tmp_path: Path) -> None:
    (tmp_path / "d" / "e").mkdir(parents=True)
    (tmp_path / "d" / "e" / "b.txt").write_text("b", encoding="utf-8")
    (tmp_path / "d" / "a.html").write_text("<p>a</p>", encoding="utf-8")
    (tmp_path / "d" / "skip.bin").write_bytes(b"\x00")
    (tmp_path / "list.paths").write_text("# comment\nd\nd/a.html\n", encoding="utf-8")
    files = expand_inputs([str(tmp_path / "list.paths")])
    assert [Path(f).name for f in files] == ["a.html", "b.txt"]


def test_broken_inputs_never_raise(tmp_path: Path) -> None:
    from test_scan_corpus import make_corpus

    make_corpus(tmp_path, n=30)
    recs = list(iter_records([str(tmp_path)]))
    errors = {Path(r.origin.path).name: r.error for r in recs if r.error}
    assert errors["binary.txt"].startswith("looks binary")
    assert "UTF-8" in errors["latin1.txt"]
    assert errors["corrupt.pdf"].startswith("unreadable PDF")
    assert errors["truncated.warc.gz"].startswith("malformed WARC")
    assert all("\n" not in e for e in errors.values())
    for path in {r.origin.path for r in recs}:
        assert count_records(path) == sum(1 for r in recs if r.origin.path == path)
    warc = [r for r in recs if r.origin.path.endswith("crawl.warc.gz")]
    assert warc and all(r.origin.url and r.origin.warc_record_id for r in warc)
    assert all(r.text and "<" not in r.text for r in warc)
    assert [r.id for r in iter_records([str(tmp_path)])] == [r.id for r in recs]


def test_warc_record_with_damaged_headers_gets_a_plain_reason(tmp_path: Path) -> None:
    # a response record without WARC-Target-URI: warcio trips on None
    f = tmp_path / "no-uri.warc"
    f.write_bytes(b"WARC/1.0\r\nWARC-Type: response\r\nContent-Length: 5\r\n\r\nshort\r\n\r\n")
    (rec,) = iter_file(str(f))
    assert rec.text is None and rec.error is not None
    assert rec.error.startswith("malformed WARC after 0 records: a record's headers are damaged")
    assert "\n" not in rec.error
