"""Local scan: 1 vs 2 workers give identical rows; rescoring; DuckDB; manifest safety."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from test_scan_corpus import assert_same_rows, rows_by_id, shared_corpus, shared_local_scan
from unspin.config import Config
from unspin.errors import InputError
from unspin.scan.local import scan_local
from unspin.scan.manifest import MANIFEST


def test_one_and_two_workers_agree(tmp_path_factory: pytest.TempPathFactory) -> None:
    ref = shared_local_scan(tmp_path_factory)
    corpus = shared_corpus(tmp_path_factory)
    out = tmp_path_factory.mktemp("w2") / "out"
    result = scan_local([str(corpus)], out, Config(mode="screen"), workers=2, batch_size=40)
    a, b = rows_by_id(ref), rows_by_id(out)
    assert len(a) >= 300
    assert_same_rows(a, b)
    assert result.exit_code == 1  # the broken files are error rows
    assert result.summary["errors"] == sum(1 for r in a.values() if r["error"])
    kinds = {Path(str(r["source"])).suffix for r in a.values() if r["error"] is None}
    assert {".txt", ".html", ".jsonl", ".gz", ".wet", ".pdf"} <= kinds


def test_duckdb_query_from_docs(tmp_path_factory: pytest.TempPathFactory) -> None:
    import duckdb

    out = shared_local_scan(tmp_path_factory)
    # The query shown in docs/scan.md.
    q = f"""
        SELECT regexp_extract(origin, '^(https?://[^/]+|.*/)', 1) AS site,
               count(*) AS docs, avg(score) AS mean_score,
               count(*) FILTER (WHERE spun) AS spun,
               count(*) FILTER (WHERE error IS NOT NULL) AS errors
        FROM read_parquet('{out}/part-*.parquet')
        GROUP BY site ORDER BY docs DESC
    """
    rows = duckdb.sql(q).fetchall()
    assert sum(r[1] for r in rows) == len(rows_by_id(out))
    assert any(r[0].startswith("http://news") for r in rows)


def test_rescore_top_replaces_rows(tmp_path: Path) -> None:
    from test_scan_corpus import make_corpus

    corpus = tmp_path / "c"
    make_corpus(corpus, n=40)
    out = tmp_path / "out"
    scan_local([str(corpus)], out, Config(mode="screen"), batch_size=10)
    screen = rows_by_id(out)
    r = scan_local([str(corpus)], out, Config(mode="screen"), batch_size=10, rescore_top=5)
    after = rows_by_id(out)
    assert sorted(after) == sorted(screen)
    full = [i for i, row in after.items() if row["mode"] == "full"]
    assert len(full) == 5
    top = sorted((i for i, row in screen.items() if row["error"] is None),
                 key=lambda i: (-float(screen[i]["score"]), i))[:5]  # type: ignore[arg-type]
    assert sorted(full) == sorted(top)
    assert r.summary["modes"] == {"screen": len(after) - 5, "full": 5}
    entries = [json.loads(x) for x in (out / MANIFEST).read_text().splitlines()]
    assert any(e["kind"] == "rescore-done" for e in entries)


def test_resume_drops_unlisted_parts_and_refuses_other_settings(tmp_path: Path) -> None:
    (tmp_path / "c").mkdir()
    for i in range(5):
        (tmp_path / "c" / f"{i}.txt").write_text(f"The market rose {i} percent today.\n",
                                                 encoding="utf-8")
    out = tmp_path / "out"
    first = scan_local([str(tmp_path / "c")], out, Config(mode="screen"), batch_size=2)
    assert first.exit_code == 0
    # A stray part (as if killed between rename and manifest append) and a tmp file.
    stray = out / "part-deadbeef.parquet"
    stray.write_bytes(next(out.glob("part-*.parquet")).read_bytes())
    (out / ".tmp-part-x.parquet.1").write_bytes(b"partial")
    with open(out / MANIFEST, "ab") as fh:
        fh.write(b'{"kind": "part", "part": "part-cut')  # a line cut by kill -9
    again = scan_local([str(tmp_path / "c")], out, Config(mode="screen"), batch_size=2)
    assert not stray.exists() and not (out / ".tmp-part-x.parquet.1").exists()
    assert again.summary["records"] == 5
    assert again.summary["this_run"]["records_scanned"] == 0
    with pytest.raises(InputError, match="different settings"):
        scan_local([str(tmp_path / "c")], out, Config(mode="full"), batch_size=2)


def test_a_neural_scan_records_its_precision_and_an_ngram_scan_does_not() -> None:
    """bfloat16 and float32 give slightly different scores, so a neural scan may not
    resume at the other precision; n-gram scans' settings are what they were
    before the option existed, so their folders still resume."""
    from unspin.scan.local import settings_of

    ngram = settings_of(["c"], Config(), "text", "id", 64)
    assert "neural_precision" not in ngram
    assert ngram == settings_of(["c"], Config(neural_precision="float32"), "text", "id", 64)
    auto = settings_of(["c"], Config(scorer="neural"), "text", "id", 64)
    exact = settings_of(["c"], Config(scorer="neural", neural_precision="float32"),
                        "text", "id", 64)
    assert auto["neural_precision"] == "auto" and exact["neural_precision"] == "float32"
    assert auto != exact


def test_rows_carry_the_suspects_apart_from_the_flags(tmp_path: Path) -> None:
    """A lightly spun copy often reads as uncertain: the rows keep its suspects, so a
    crawl can be sorted by them, and error rows have none."""
    import unspin
    from unspin.scan.manifest import read_rows

    example = (Path(unspin.__file__).parent / "examples" / "spun_news.txt").read_text()
    analysis = unspin.check(example)  # the scan's default config: full mode, default model
    assert analysis.suspects, "the bundled example lists no suspect under the default model"
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "story.txt").write_text(example, encoding="utf-8")
    (tmp_path / "c" / "broken.html").write_bytes(b"\xff\xfe\x00binary")
    out = tmp_path / "out"
    scan_local([str(tmp_path / "c")], out, Config(), batch_size=2)
    rows = {Path(str(r["id"])).name: r for r in read_rows(out).to_pylist()}
    row = rows["story.txt"]
    assert row["n_spans"] == len(analysis.spans)
    assert row["n_suspects"] == len(analysis.suspects)
    listed = json.loads(row["top_suspects"])
    expected = sorted(analysis.suspects, key=lambda s: (-s.given_spun(), s.start))[:5]
    assert [(x["start"], x["end"], x["text"], x["restored"]) for x in listed] == [
        (s.start, s.end, s.text, s.restored) for s in expected]
    assert all(x["confidence"] < x["given"] for x in listed)
    assert [x["given"] for x in listed] == sorted((x["given"] for x in listed), reverse=True)
    broken = rows["broken.html"]
    assert broken["error"] and broken["n_suspects"] == 0 and broken["top_suspects"] == "[]"
