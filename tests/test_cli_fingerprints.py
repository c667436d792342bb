"""CLI, run in a subprocess exactly as a user would."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SHARED

DEV_CSV = SHARED / "dev" / "pps_fingerprints_dev.csv"  # SHARED honours $UNSPIN_DATA_DIR
SRC = Path(__file__).resolve().parents[1] / "src"


def run(*args: str, cache: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["UNSPIN_CACHE"] = str(cache)
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-m", "unspin.cli.fingerprints", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def assert_one_line_error(proc: subprocess.CompletedProcess[str], code: int = 1) -> None:
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().startswith("unspin: error:")
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def test_dry_run_dev_csv_reports_counts(cache: Path) -> None:
    assert DEV_CSV.is_file(), f"dev fingerprint slice missing at {DEV_CSV}"
    proc = run("import", str(DEV_CSV), "--dry-run", cache=cache)
    assert proc.returncode == 0, proc.stderr
    assert "1744 rows, 1744 queries parsed, 0 rejected" in proc.stdout
    assert "proximity" in proc.stdout and "and" in proc.stdout
    assert not (cache / "fingerprints").exists()


def test_dry_run_lists_each_failure_and_exits_1(cache: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "tortured_phrase,expected_phrase,num_papers\n"
        '"""ok""",x,1\n"""a"" ""b""",x,1\n"""c""",x,abc\n',
        "utf-8",
    )
    proc = run("import", str(bad), "--dry-run", cache=cache)
    assert proc.returncode == 1
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert lines[0].startswith(f"{bad}:3: query does not parse: missing operator")
    assert lines[1].startswith(f"{bad}:4: num_papers 'abc'")
    assert "Traceback" not in proc.stderr
    # without --skip-bad nothing is stored
    proc = run("import", str(bad), cache=cache)
    assert proc.returncode == 1 and "nothing stored" in proc.stderr
    proc = run("import", str(bad), "--skip-bad", "--name", "partial", cache=cache)
    assert proc.returncode == 0, proc.stderr
    assert (cache / "fingerprints" / "partial.json").is_file()


def test_import_list_stats_match_export(cache: Path, tmp_path: Path) -> None:
    proc = run("import", str(DEV_CSV), "--name", "pps-dev", cache=cache)
    assert proc.returncode == 0, proc.stderr
    proc = run("list", cache=cache)
    assert proc.stdout.startswith("pps-dev\t1744\t")
    proc = run("stats", cache=cache)
    assert "pps-dev: 1744 queries" in proc.stdout

    text = "A brain organization, i.e. a neural network. Bogus news beats fake news."
    proc = run("match", "-", "--json", cache=cache, stdin=text)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["format"] == "unspin.fingerprint-hits/1"
    assert [(h["text"], h["list_name"]) for h in doc["hits"]] == [
        ("brain organization", "pps-dev"),
        ("Bogus news", "pps-dev"),
    ]
    f = tmp_path / "doc.txt"
    f.write_text("We trained a neural network.", "utf-8")
    proc = run("match", str(f), cache=cache)
    assert proc.returncode == 0 and proc.stdout == "" and "0 hits" in proc.stderr

    out = tmp_path / "out.csv"
    proc = run("export", "--out", str(out), cache=cache)
    assert proc.returncode == 0, proc.stderr
    with (
        out.open(encoding="utf-8", newline="") as a,
        DEV_CSV.open(encoding="utf-8", newline="") as b,
    ):
        assert list(csv.reader(a)) == list(csv.reader(b))


def test_errors_are_one_line(cache: Path, tmp_path: Path) -> None:
    assert_one_line_error(run("import", str(tmp_path / "missing.csv"), cache=cache))
    assert_one_line_error(run("match", "-", cache=cache, stdin="x"))  # no sets stored
    assert_one_line_error(run("export", "--name", "nope", cache=cache))
    bad_name = run("import", str(DEV_CSV), "--name", "../x", cache=cache)
    assert_one_line_error(bad_name)
    assert "invalid set name" in bad_name.stderr
    notcsv = tmp_path / "x.csv"
    notcsv.write_bytes(b"\xff\xfe\x00")
    assert_one_line_error(run("import", str(notcsv), cache=cache))


def test_propose_ranks_unlisted_spans(cache: Path, tmp_path: Path) -> None:
    def analysis(*spans: tuple[str, str, float, bool]) -> str:
        return json.dumps(
            {
                "spans": [
                    {"text": t, "restored": r, "confidence": c, "listed": li}
                    for t, r, c, li in spans
                ]
            }
        )

    lines = [
        analysis(("dying toll", "death toll", 0.9, False), ("bogus news", "fake news", 0.99, True)),
        analysis(
            ("Dying toll", "death toll", 0.7, False), ("assortment of", "number of", 0.6, False)
        ),
        analysis(
            ("assortment of", "number of", 0.5, False), ("assortment of", "variety of", 0.4, False)
        ),
        analysis(("big data", "big data", 0.9, False), ('say "hi"', "say hi", 0.9, False)),
        "",
    ]
    scan = tmp_path / "scan.jsonl"
    scan.write_text("\n".join(lines), "utf-8")
    out = tmp_path / "queue.csv"
    proc = run("propose", "--scan-json", str(scan), "--out", str(out), cache=cache)
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    # dying toll: 2 docs x 0.8 = 1.6; assortment of: 2 docs x 0.5 = 1.0
    assert [(r["tortured_phrase"], r["expected_phrase"], r["num_papers"]) for r in rows] == [
        ('"dying toll"', "death toll", "2"),
        ('"assortment of"', "number of", "2"),
    ]
    assert "skipped 1 listed spans, 1 containing a double quote" in proc.stderr
    # the queue is itself importable
    proc = run("import", str(out), "--dry-run", cache=cache)
    assert proc.returncode == 0, proc.stderr

    broken = tmp_path / "broken.jsonl"
    broken.write_text(lines[0] + "\n{not json\n", "utf-8")
    proc = run("propose", "--scan-json", str(broken), "--out", str(out), cache=cache)
    assert_one_line_error(proc)
    assert ":2:" in proc.stderr
    bad_span = tmp_path / "bad_span.jsonl"
    bad_span.write_text(json.dumps({"spans": [{"text": "x"}]}) + "\n", "utf-8")
    proc = run("propose", "--scan-json", str(bad_span), "--out", str(out), cache=cache)
    assert_one_line_error(proc)
    assert "line 1: span 0 lacks a valid 'restored'" in proc.stderr


def test_register_mounts_group() -> None:
    import typer
    from typer.testing import CliRunner

    from unspin.cli.fingerprints import register

    root = typer.Typer()

    @root.command()
    def version() -> None:
        typer.echo("0")

    register(root)
    result = CliRunner().invoke(root, ["fingerprints", "--help"])
    assert result.exit_code == 0
    assert "import" in result.output and "propose" in result.output
