"""Index build, append, shards and queries on a small slice of the corpora."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from unspin.errors import FormatError, InputError
from unspin.evaluation.datasets import Doc, load_corpus
from unspin.simulate import spin
from unspin.trace import (
    TRACE_SCHEMA,
    Index,
    IndexParams,
    SourceRecord,
    build_index,
    index_info,
    iter_source_records,
    trace,
)

N_DOCS = 300


@pytest.fixture(scope="module")
def docs(shared_data: Path) -> list[Doc]:
    return [d for d in load_corpus("reuters")[:N_DOCS + 40] if len(d.text.split()) >= 60]


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory, docs: list[Doc]) -> Path:
    out = tmp_path_factory.mktemp("trace-index")
    rep = build_index(out, (SourceRecord(d.id, d.text, d.title) for d in docs[:N_DOCS]),
                      processes=1)
    assert rep.added == min(N_DOCS, len(docs)) and rep.skipped_duplicates == 0
    return out


@pytest.mark.parametrize("profile", ["a", "b", "c", "d"])
def test_spun_copies_trace_to_their_source(index_dir: Path, docs: list[Doc],
                                            profile: str) -> None:
    with Index(index_dir) as idx:
        for k, d in enumerate(docs[10:40:6]):
            s = spin(d.text, profile, seed=k)
            result = trace(s.text, idx, top=5)
            assert result.found, (d.id, result.best)
            best = result.best
            assert best is not None
            assert best.id == d.id or best.source_text == d.text
            for sub in best.substitutions:
                assert s.text[sub.spun_start:sub.spun_end] == sub.spun
                assert best.source_text[sub.source_start:sub.source_end] == sub.source
            # most true substitutions lie inside an aligned one (adjacent swaps merge:
            # "firm mentioned" -> "company said"; pure insertions are not reported)
            found = sum(1 for x in s.substitutions
                        if any(a.spun_start <= x.spun_start and x.spun_end <= a.spun_end
                               for a in best.substitutions))
            assert found >= 0.5 * len(s.substitutions)


def test_unrelated_text_finds_no_source(index_dir: Path, shared_data: Path) -> None:
    bbc = load_corpus("bbc")[:5]
    with Index(index_dir) as idx:
        for d in bbc:
            result = trace(d.text, idx)
            assert not result.found and result.matches == ()
            assert result.to_json() == {"schema": TRACE_SCHEMA, "threshold": idx.params.threshold,
                                        "matches": []}


def test_json_shape(index_dir: Path, docs: list[Doc]) -> None:
    s = spin(docs[12].text, "a", seed=1)
    with Index(index_dir) as idx:
        out = json.loads(json.dumps(trace(s.text, idx).to_json()))
    assert out["schema"] == "unspin.trace/1"
    m = out["matches"][0]
    assert {"id", "score", "alignment"} <= set(m)
    assert m["alignment"] and set(m["alignment"][0]) == {
        "spun_start", "spun_end", "source_start", "source_end", "spun", "source"}


def test_append_skips_known_ids_and_keeps_params(tmp_path: Path, docs: list[Doc]) -> None:
    params = IndexParams(shards=3, threshold=0.5)
    first = build_index(tmp_path, (SourceRecord(d.id, d.text) for d in docs[:30]),
                        params=params, processes=1)
    second = build_index(tmp_path, (SourceRecord(d.id, d.text) for d in docs[20:50]),
                         processes=2)
    assert (first.added, second.added, second.skipped_duplicates) == (30, 20, 10)
    info = index_info(tmp_path)
    assert info["documents"] == 50 and info["params"]["shards"] == 3
    assert info["params"]["threshold"] == 0.5 and info["bytes_on_disk"] > 0
    with pytest.raises(InputError, match="other parameters"):
        build_index(tmp_path, [], params=IndexParams(shards=2), processes=1)
    with Index(tmp_path) as idx:
        assert len(idx) == 50
        s = spin(docs[45].text, "d", seed=3)
        assert trace(s.text, idx).best.id == docs[45].id  # type: ignore[union-attr]


def test_readers(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text(
        json.dumps({"id": "x1", "text": "Alpha beta.", "title": "T", "url": "u", "date": "d"})
        + "\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text("Plain text story.", encoding="utf-8")
    (tmp_path / "c.html").write_text(
        "<html><head><title>Hi</title><script>x=1</script></head>"
        "<body><p>First para.</p><p>Second &amp; last.</p></body></html>", encoding="utf-8")
    (tmp_path / "ignored.bin").write_bytes(b"\x00\x01")
    recs = {r.id.rsplit("/", 1)[-1]: r for r in iter_source_records([tmp_path])}
    assert recs["x1"].title == "T" and recs["x1"].url == "u"
    assert recs["b.txt"].text == "Plain text story."
    assert recs["c.html"].title == "Hi"
    assert recs["c.html"].text == "First para.\n\nSecond & last."
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1}\n', encoding="utf-8")
    with pytest.raises(FormatError, match=r"bad\.jsonl:1"):
        list(iter_source_records([bad]))
    with pytest.raises(InputError, match="no such file"):
        list(iter_source_records([tmp_path / "missing"]))


def test_bad_queries_teach(index_dir: Path) -> None:
    with Index(index_dir) as idx:
        with pytest.raises(InputError, match="decode first"):
            trace(b"bytes", idx)  # type: ignore[arg-type]
        with pytest.raises(InputError, match="empty"):
            trace("   ", idx)
    with pytest.raises(InputError, match="no trace index"):
        Index(index_dir / "nowhere")
