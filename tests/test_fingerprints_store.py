"""Store: PPS CSV import with provenance, JSON save/load, export, channel pairs."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import pytest

from conftest import SHARED
from unspin.errors import FormatError
from unspin.fingerprints.grammar import parse
from unspin.fingerprints.store import (
    FORMAT,
    FingerprintSet,
    cache_dir,
    channel_pairs,
    clean_expected,
    fingerprints_dir,
    import_pps_csv,
    load_set,
    load_sets,
    parse_num_papers,
    read_pps_csv,
    save_set,
    write_pps_csv,
)

DEV_CSV = SHARED / "dev" / "pps_fingerprints_dev.csv"  # SHARED honours $UNSPIN_DATA_DIR


def test_dev_csv_imports_with_zero_failures() -> None:
    # No skip: the dev slice is part of the test contract; a missing file must fail.
    assert DEV_CSV.is_file(), f"dev fingerprint slice missing at {DEV_CSV}"
    report = import_pps_csv(DEV_CSV, name="pps-dev")
    assert report.failures == ()
    assert report.rows == 1744
    assert report.set.count == 1744
    assert report.set.sha256 == hashlib.sha256(DEV_CSV.read_bytes()).hexdigest()
    ops = report.operators
    assert ops["and"] >= 100 and ops["not"] >= 1 and ops["or"] >= 1 and ops["proximity"] >= 1
    assert ops["term"] >= 1 and ops["simple"] >= 1000
    first = report.set.fingerprints[0]
    assert first.line == 2 and first.num_papers == 21347
    assert first.query == '"malignant growth" AND "cancer"'
    # every stored query parses and ids are unique
    assert len({f.id for f in report.set.fingerprints}) == 1744
    for f in report.set.fingerprints:
        parse(f.query)


BAD_CSV = """tortured_phrase,expected_phrase,num_papers
"\"\"good one\"\"",fine,"1,234"
"\"\"unclosed",x,5
"\"\"a\"\" \"\"b\"\"",x,5
"\"\"ok\"\"",x,12.5
"\"\"ok2\"\"",x,
"\"\"good one\"\"",dup,3
"\"\"too\"\"",many,3,cols

"\"\"multi
line\"\"",x,"21,347"
"""


def test_every_failure_reported_with_line_and_reason() -> None:
    report = read_pps_csv(BAD_CSV, name="bad", source="inline")
    got = [(f.line, f.reason.split(";")[0]) for f in report.failures]
    assert [line for line, _ in got] == [3, 4, 5, 6, 7, 8]
    reasons = " | ".join(r for _, r in got)
    assert "unclosed quote" in reasons
    assert "missing operator" in reasons
    assert "not a whole number" in reasons
    assert "num_papers is empty" in reasons
    assert "duplicate query, first seen on line 2" in reasons
    assert "expected 3 columns, found 4" in reasons
    assert report.rows == 8  # the blank line is not a row
    assert [f.query for f in report.set.fingerprints] == ['"good one"', '"multi\nline"']
    assert report.set.fingerprints[1].line == 10
    assert report.set.fingerprints[1].num_papers == 21347


def test_header_and_encoding_errors() -> None:
    with pytest.raises(FormatError, match="lacks num_papers"):
        read_pps_csv("tortured_phrase,expected_phrase\n", name="x", source="s")
    with pytest.raises(FormatError, match="empty"):
        read_pps_csv("", name="x", source="s")


def test_num_papers() -> None:
    assert parse_num_papers("21,347") == 21347
    assert parse_num_papers("0") == 0
    assert parse_num_papers(" 1,000,000 ") == 1_000_000
    for bad in ("1,00", "12.5", "-3", "", "1 000"):
        with pytest.raises(ValueError):
            parse_num_papers(bad)


def test_cache_dir_from_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("UNSPIN_CACHE", str(tmp_path))
    assert cache_dir() == tmp_path
    assert fingerprints_dir() == tmp_path / "fingerprints"
    monkeypatch.delenv("UNSPIN_CACHE")
    assert cache_dir() == Path.home() / ".cache" / "unspin"


def test_save_load_round_trip_and_versioning(tmp_path: Path) -> None:
    report = import_pps_csv(DEV_CSV, name="pps-dev")
    path = save_set(report.set, tmp_path)
    assert path == tmp_path / "pps-dev.json"
    obj = json.loads(path.read_text("utf-8"))
    assert obj["format"] == FORMAT and obj["count"] == 1744
    assert load_set(path) == report.set
    obj["format"] = "unspin.fingerprints/0"
    path.write_text(json.dumps(obj), "utf-8")
    with pytest.raises(FormatError, match=r"expected 'unspin\.fingerprints/1'"):
        load_set(path)
    obj["format"] = FORMAT
    obj["count"] = 3
    path.write_text(json.dumps(obj), "utf-8")
    with pytest.raises(FormatError, match="count=3"):
        load_set(path)


def test_multiple_sets_and_unknown_names(tmp_path: Path) -> None:
    a = read_pps_csv(
        'tortured_phrase,expected_phrase,num_papers\n"""x y""",z,1\n', name="a", source="s"
    )
    b = read_pps_csv(
        'tortured_phrase,expected_phrase,num_papers\n"""p q""",r,1\n', name="b", source="s"
    )
    save_set(a.set, tmp_path)
    save_set(b.set, tmp_path)
    assert [s.name for s in load_sets(tmp_path)] == ["a", "b"]
    assert [s.name for s in load_sets(tmp_path, ["b"])] == ["b"]
    with pytest.raises(ValueError, match="stored sets: a, b"):
        load_sets(tmp_path, ["nope"])
    assert load_sets(tmp_path / "missing") == []


def test_invalid_set_name() -> None:
    with pytest.raises(ValueError, match="invalid set name"):
        FingerprintSet("../evil", "s", "d", 0, "h", ())


def test_export_round_trip_matches_dev_file() -> None:
    report = import_pps_csv(DEV_CSV, name="pps-dev")
    buf = io.StringIO()
    assert write_pps_csv(report.set.fingerprints, buf) == 1744
    original = list(csv.reader(io.StringIO(DEV_CSV.read_text("utf-8"), newline="")))
    exported = list(csv.reader(io.StringIO(buf.getvalue(), newline="")))
    assert exported == original
    again = read_pps_csv(buf.getvalue(), name="again", source="export")
    assert again.failures == ()
    assert [f.query for f in again.set.fingerprints] == [f.query for f in report.set.fingerprints]


def test_clean_expected_rules() -> None:
    assert clean_expected("economic development/profit growth") == [
        "economic development",
        "profit growth",
    ]
    assert clean_expected("machine learning\xa0(in this context)") == ["machine learning"]
    assert clean_expected("fault analysis/diagnosis") == ["fault analysis", "fault diagnosis"]
    assert clean_expected("fog/mist/cloud computing") == [
        "fog computing",
        "mist computing",
        "cloud computing",
    ]
    assert clean_expected("supervised [machine] learning") == ["supervised learning"]
    assert clean_expected("Information Technology (IT)", "Data Innovation (IT)") == [
        "Information Technology (IT)"
    ]
    for note in (
        "???",
        "crosslinking reagent (?)",
        "effort expectancy, see https://x.y",
        "a AND b",
    ):
        assert clean_expected(note) == []


def test_channel_pairs_only_simple_phrases() -> None:
    report = import_pps_csv(DEV_CSV, name="pps-dev")
    pairs = channel_pairs([report.set])
    assert ("neural organization", "neural network", "pps-dev") in pairs
    tortured = {t for t, _, _ in pairs}
    assert "malignant growth" not in tortured  # an AND query: conditional, not a pair
    assert "exactness accuracy" not in tortured  # proximity
    assert all(e and "?" not in e and "/" not in e for _, e, _ in pairs)
    assert all(s == "pps-dev" for _, _, s in pairs)
