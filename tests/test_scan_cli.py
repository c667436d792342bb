"""``unspin scan`` / ``unspin report`` in a subprocess: exit codes, outputs, report page."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

CLI = [sys.executable, "-m", "unspin.cli.scan"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300)


def test_scan_exit_codes_and_report(tmp_path: Path) -> None:
    good = tmp_path / "good"
    good.mkdir()
    (good / "a.txt").write_text("The assortment of cases rose sharply in the international "
                                "locations last year. Supply hyperlink\n", encoding="utf-8")
    (good / "b.txt").write_text("The central bank raised interest rates on Tuesday.\n",
                                encoding="utf-8")
    r = _run("scan", str(good), "--out", str(tmp_path / "o1"), "--quiet")
    assert r.returncode == 0, r.stderr
    summary = json.loads((tmp_path / "o1" / "summary.json").read_text())
    assert summary["records"] == 2 and summary["exit_code"] == 0
    assert "docs/s" in r.stderr  # plain progress lines when not a TTY

    (good / "bad.txt").write_bytes(b"\x00\x01\x02" * 100)
    r = _run("scan", str(good), "--out", str(tmp_path / "o2"), "--quiet", "--workers", "2")
    assert r.returncode == 1, r.stderr

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.txt").write_bytes(b"\xff\xfe\x00\xd8" * 10)
    assert _run("scan", str(bad), "--out", str(tmp_path / "o3"), "--quiet").returncode == 2
    assert _run("scan", str(good), "--out", str(tmp_path / "o4"), "--mode",
                "fast").returncode == 2
    assert _run("scan", "--out", str(tmp_path / "o5")).returncode == 2

    html = tmp_path / "report.html"
    r = _run("report", str(tmp_path / "o2"), "--out", str(html), "--markdown")
    assert r.returncode == 0, r.stderr
    assert "# unspin scan summary" in r.stdout and "records: **3**" in r.stdout
    page = html.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "<svg" in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "<script" not in page
    assert "supply-hyperlink" in page  # spinner signature counted
    assert _run("report", str(tmp_path / "nothing")).returncode == 2


def test_report_highlights_spans(tmp_path: Path) -> None:
    from unspin.report.html import render_html
    from unspin.report.summary import summarize
    from unspin.scan.schema import to_table

    text = "The assortment of cases rose."
    src = tmp_path / "d.txt"
    src.write_text(text, encoding="utf-8")
    row = {"id": str(src), "origin": str(src), "source": str(src), "score": 0.9, "spun": True,
           "n_spans": 1, "top_spans": json.dumps([{"text": "assortment", "restored": "number",
                                                  "confidence": 0.8, "start": 4, "end": 14}]),
           "n_suspects": 0, "top_suspects": "[]", "evidence": "[]", "language": "en",
           "length": len(text), "elapsed_s": 0.0,
           "error": None, "mode": "full"}
    summary = summarize(to_table([row]))
    assert summary["substitutions"][0] == {"spun": "assortment", "restored": "number",
                                           "count": 1, "example": str(src)}
    page = render_html(summary)
    assert "The <mark" in page and "assortment</mark><ins>[number]</ins> of cases" in page
