"""Spark local[2] gives the same rows as the local scan (same reader, core, schema)."""

from __future__ import annotations

import pytest

from test_scan_corpus import assert_same_rows, rows_by_id, shared_corpus, shared_local_scan
from unspin.config import Config


@pytest.mark.engine
def test_spark_local2_matches_local_scan(tmp_path_factory: pytest.TempPathFactory) -> None:
    from unspin.scan.spark import scan_spark

    ref = shared_local_scan(tmp_path_factory)
    corpus = shared_corpus(tmp_path_factory)
    listing = tmp_path_factory.mktemp("spark_in") / "inputs.paths"
    listing.write_text(f"# cc-pyspark style listing\n{corpus}\n", encoding="utf-8")
    out = tmp_path_factory.mktemp("spark_out") / "out"
    result = scan_spark([str(corpus)], out, Config(mode="screen"), master="local[2]",
                        batch_size=40)
    assert (out / "_SUCCESS").exists()
    assert result.exit_code == 1
    assert_same_rows(rows_by_id(ref), rows_by_id(out))
    assert result.summary["records"] == len(rows_by_id(ref))
