"""A mixed-format test corpus for the scan tests, built in a tmp dir (no network).

``make_corpus(root, n)`` writes about ``n`` small documents (1-3 sentences)
as .txt, .html, .jsonl, a gzipped WARC, a WET file and PDFs, plus deliberately
broken inputs: a binary .txt, a latin-1 .txt, a truncated .warc.gz, a bad JSON
line and a corrupt .pdf. The tests in this module check the generator itself
and the record reader on it.
"""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

SPUN = [
    "The assortment of cases rose sharply in the international locations last year.",
    "Scientists said the new drug could give a boost to patients with bosom peril.",
    "The government will present a bill to lower the expense of living, authorities said.",
    "Man-made brainpower is changing how organizations handle enormous information.",
    "Officials talked about the deal would help the nearby economy. Supply hyperlink",
]
CLEAN = [
    "The central bank raised interest rates by a quarter point on Tuesday.",
    "Shares of the company fell three percent after the earnings report.",
    "The team won the match in extra time after a late goal.",
    "Heavy rain caused flooding in several towns across the region.",
    "The minister said talks with the union would resume next week.",
    "Oil prices climbed as supply concerns grew in the market.",
    "The museum opened a new exhibition of modern photography.",
]


def _doc(rng: random.Random) -> str:
    pool = SPUN if rng.random() < 0.35 else CLEAN
    n = rng.randint(1, 3)
    return " ".join(rng.choice(pool) if i == 0 else rng.choice(SPUN + CLEAN) for i in range(n))


def _warc(path: Path, docs: list[str], wet: bool, gz: bool) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=gz)
        for i, text in enumerate(docs):
            uri = f"http://news{i % 3}.example.com/story/{i}"
            if wet:
                rec = writer.create_warc_record(uri, "conversion",
                                                payload=io.BytesIO(text.encode("utf-8")),
                                                warc_headers_dict={"Content-Type": "text/plain"})
            else:
                body = (f"<html><head><title>Story {i}</title></head><body><article>"
                        f"<p>{text}</p></article></body></html>").encode()
                headers = StatusAndHeaders("200 OK", [("Content-Type",
                                                       "text/html; charset=utf-8")],
                                           protocol="HTTP/1.0")
                rec = writer.create_warc_record(uri, "response", payload=io.BytesIO(body),
                                                http_headers=headers)
            writer.write_record(rec)


def _pdf(path: Path, text: str) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.multi_cell(0, 8, text)
    pdf.output(str(path))


def make_corpus(root: Path, n: int = 300, seed: int = 7) -> dict[str, int]:
    """Write the corpus under ``root``; returns counts by format."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    n_txt, n_html, n_jsonl, n_warc, n_wet = (int(n * f) for f in (0.3, 0.15, 0.3, 0.12, 0.1))
    for i in range(n_txt):
        d = root / f"site{i % 3}"
        d.mkdir(exist_ok=True)
        (d / f"doc{i:04d}.txt").write_text(_doc(rng) + "\n", encoding="utf-8")
    for i in range(n_html):
        d = root / "html"
        d.mkdir(exist_ok=True)
        (d / f"page{i:04d}.html").write_text(
            f"<html><head><title>Page {i}</title></head><body><nav>Home | About</nav>"
            f"<article><h1>Report {i}</h1><p>{_doc(rng)}</p></article>"
            "<footer>Copyright 2024</footer></body></html>", encoding="utf-8")
    lines = [json.dumps({"id": f"j{i}", "text": _doc(rng)}) for i in range(n_jsonl)]
    lines.insert(5, '{"id": "broken", "text": "unterminated')
    lines.insert(9, json.dumps({"id": "nofield", "body": "wrong field"}))
    (root / "feed.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    _warc(root / "crawl.warc.gz", [_doc(rng) for _ in range(n_warc)], wet=False, gz=True)
    _warc(root / "crawl.warc.wet", [_doc(rng) for _ in range(n_wet)], wet=True, gz=False)
    pdfs = root / "pdf"
    pdfs.mkdir(exist_ok=True)
    for i in range(2):
        _pdf(pdfs / f"paper{i}.pdf", _doc(rng))
    broken = root / "broken"
    broken.mkdir(exist_ok=True)
    (broken / "binary.txt").write_bytes(bytes(range(256)) * 8)
    (broken / "latin1.txt").write_bytes("Le café était fermé à Noël.".encode("latin-1"))
    (broken / "empty.txt").write_text("   \n", encoding="utf-8")
    (broken / "corrupt.pdf").write_bytes(b"%PDF-1.4\n1 0 obj <<>> garbage\n%%EOF garbage")
    tmp = broken / "_tmp.warc.gz"
    _warc(tmp, [_doc(rng) for _ in range(6)], wet=False, gz=True)
    data = tmp.read_bytes()
    tmp.unlink()
    (broken / "truncated.warc.gz").write_bytes(data[: int(len(data) * 0.6)])
    counts.update(txt=n_txt, html=n_html, jsonl=n_jsonl + 2, warc=n_warc, wet=n_wet, pdf=2)
    return counts


def test_corpus_is_mixed_and_readable(tmp_path: Path) -> None:
    from unspin.io.records import iter_records

    counts = make_corpus(tmp_path / "c", n=60)
    records = list(iter_records([str(tmp_path / "c")]))
    ids = [r.id for r in records]
    assert len(ids) == len(set(ids))
    ok = [r for r in records if r.error is None]
    bad = {Path(r.origin.path).name: r.error for r in records if r.error is not None}
    assert len(ok) >= counts["txt"] + counts["html"] + counts["jsonl"] - 2
    assert "binary.txt" in bad and "latin1.txt" in bad and "corrupt.pdf" in bad
    assert "truncated.warc.gz" in bad
    assert sum(1 for r in records if r.origin.path.endswith(".pdf") and r.error is None) == 2


_SHARED: dict[str, object] = {}


def shared_corpus(tmp_path_factory: object) -> Path:
    """One 300-document corpus per test session (built on first use)."""
    if "corpus" not in _SHARED:
        root = tmp_path_factory.mktemp("scan_corpus")  # type: ignore[attr-defined]
        make_corpus(root, n=300)
        _SHARED["corpus"] = root
    return _SHARED["corpus"]  # type: ignore[return-value]


def shared_local_scan(tmp_path_factory: object) -> Path:
    """The 1-worker local scan of :func:`shared_corpus` (the reference output)."""
    if "local1" not in _SHARED:
        from unspin.config import Config
        from unspin.scan.local import scan_local

        out = tmp_path_factory.mktemp("scan_local1") / "out"  # type: ignore[attr-defined]
        scan_local([str(shared_corpus(tmp_path_factory))], out, Config(mode="screen"),
                   workers=1, batch_size=40)
        _SHARED["local1"] = out
    return _SHARED["local1"]  # type: ignore[return-value]


def rows_by_id(out: Path) -> dict[str, dict[str, object]]:
    from unspin.scan.manifest import read_rows

    rows = read_rows(out).to_pylist()
    by_id = {r["id"]: r for r in rows}
    assert len(by_id) == len(rows), "duplicated ids"
    return by_id


def assert_same_rows(a: dict[str, dict[str, object]], b: dict[str, dict[str, object]]) -> None:
    assert sorted(a) == sorted(b)
    for rid, ra in a.items():
        rb = b[rid]
        for k, v in ra.items():
            if k == "elapsed_s":
                continue
            if k == "score" and v is not None:
                assert abs(float(v) - float(rb[k])) <= 1e-9, (rid, v, rb[k])  # type: ignore[arg-type]
            else:
                assert v == rb[k], (rid, k, v, rb[k])
