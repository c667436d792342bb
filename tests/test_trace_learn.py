"""Learning round trip: trace spun copies, learn, review, apply, and use the table."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from unspin.candidates.learned import LearnedTable
from unspin.errors import FormatError
from unspin.evaluation.datasets import load_corpus
from unspin.simulate import spin
from unspin.trace import Index, SourceRecord, apply_review, build_index, learn_from_trace


def test_learn_review_apply_round_trip(tmp_path: Path, shared_data: Path) -> None:
    docs = [d for d in load_corpus("reuters")[:150] if len(d.text.split()) >= 60][:80]
    build_index(tmp_path / "idx", (SourceRecord(d.id, d.text) for d in docs), processes=1)
    spun = [spin(d.text, "c", seed=k) for k, d in enumerate(docs[:25])]
    unrelated = load_corpus("bbc")[0].text
    table_path, review_path = tmp_path / "learned.tsv", tmp_path / "review.csv"
    with Index(tmp_path / "idx") as idx:
        learning = learn_from_trace([s.text for s in spun] + [unrelated], idx,
                                    out=table_path, review=review_path, when="2024-01-02")
    assert learning.texts == 26 and learning.traced == 25  # the unrelated story is not used
    # the learned pairs are the simulator's: "was" -> "used to be" is its house idiom
    truth = {(x.original.lower(), x.spun.lower()) for s in spun for x in s.substitutions}
    learned = set(learning.table.pairs)
    assert len(learned & truth) >= 0.6 * len(learned)
    table = LearnedTable.load(table_path)
    assert set(table.pairs) == learned
    assert all(p.status == "proposed" and p.first_seen == "2024-01-02"
               for p in table.pairs.values())
    assert "traced" in table.source or "trace" in table.source

    with review_path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and list(rows[0]) == ["original", "spun", "count", "docs", "example", "decision"]
    assert all("[" in r["example"] for r in rows)
    # a human accepts the first row, rejects the second, leaves the rest
    rows[0]["decision"], rows[1]["decision"] = "accept", "reject"
    with review_path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    rep = apply_review(review_path, table_path)
    assert (rep.accepted, rep.rejected, rep.undecided) == (1, 1, len(rows) - 2)
    after = LearnedTable.load(table_path)
    assert after.pairs[(rows[0]["original"], rows[0]["spun"])].status == "accepted"
    assert (rows[1]["original"], rows[1]["spun"]) not in after.pairs
    assert len(after.pairs) == len(table.pairs) - 1

    # learning again merges counts into the same table
    with Index(tmp_path / "idx") as idx:
        learn_from_trace([spun[0].text], idx, out=table_path)
    merged = LearnedTable.load(table_path)
    assert sum(p.count for p in merged.pairs.values()) > sum(
        p.count for p in after.pairs.values())


def test_review_file_must_have_the_columns(tmp_path: Path) -> None:
    bad = tmp_path / "r.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(FormatError, match="decision"):
        apply_review(bad, tmp_path / "t.tsv")
