"""The CLI in a subprocess: output formats, exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "src" / "unspin" / "examples" / "spun_news.txt"


def run(cli: list[str], *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*cli, *args], input=stdin.decode("latin1") if stdin else None,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def newsroom_lm(shared_data: Path) -> str:
    from unspin.evaluation.harness import ensure_ngram

    return str(ensure_ngram())


def test_check_json_on_the_bundled_example(unspin_cli: list[str], newsroom_lm: str) -> None:
    out = run(unspin_cli, "check", str(EXAMPLE), "--json", "--lm", newsroom_lm)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["schema"] == "unspin.analysis/1"
    assert doc["spun"] is True
    assert any(s["text"] == "dying" and s["restored"] == "death" for s in doc["spans"])
    assert out.stderr == ""


def test_restore_from_stdin(unspin_cli: list[str], newsroom_lm: str) -> None:
    proc = subprocess.run([*unspin_cli, "restore", "-", "--lm", newsroom_lm],
                          input="The dying toll rose to 68 on Saturday, the ministry said.",
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "death toll" in proc.stdout


def test_plain_view_lists_spans(unspin_cli: list[str], newsroom_lm: str) -> None:
    out = run(unspin_cli, "check", str(EXAMPLE), "--plain", "--lm", newsroom_lm)
    assert out.returncode == 0
    assert out.stdout.startswith("SPUN")
    assert "'dying' -> 'death'" in out.stdout


def _one_line_error(proc: subprocess.CompletedProcess[str], code: int, fragment: str) -> None:
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert fragment in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_errors_are_one_line(unspin_cli: list[str], tmp_path: Path) -> None:
    binary = tmp_path / "x.bin"
    binary.write_bytes(b"\x00\x01\x02binary")
    _one_line_error(run(unspin_cli, "check", str(binary)), 2, "binary")
    latin = tmp_path / "latin.txt"
    latin.write_bytes("caf\xe9 society".encode("latin-1"))
    _one_line_error(run(unspin_cli, "check", str(latin)), 2, "not valid UTF-8")
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    _one_line_error(run(unspin_cli, "check", str(empty)), 2, "empty")
    _one_line_error(run(unspin_cli, "check", str(tmp_path / "missing.txt")), 2, "no such file")
    _one_line_error(run(unspin_cli, "check", str(tmp_path)), 2, "directory")
    bad_pairs = tmp_path / "pairs.jsonl"
    bad_pairs.write_text('{"spun_text": "a"}\n')
    _one_line_error(run(unspin_cli, "learn", "--pairs", str(bad_pairs), "--out",
                        str(tmp_path / "t.tsv")), 2, "pairs.jsonl:1")


def test_html_and_pdf_files_are_read_as_their_text(unspin_cli: list[str], newsroom_lm: str,
                                                   tmp_path: Path) -> None:
    story = EXAMPLE.read_text(encoding="utf-8")
    paras = "".join(f"<p>{p}</p>" for p in story.split("\n\n") if p.strip())
    page = tmp_path / "story.html"
    page.write_text(f"<html><head><title>t</title><script>var x = 1;</script></head>"
                    f"<body><article>{paras}</article></body></html>", encoding="utf-8")
    out = run(unspin_cli, "check", str(page), "--json", "--lm", newsroom_lm)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert "<" not in doc["restored_text"] and "var x" not in doc["restored_text"]
    assert any(s["text"] == "dying" and s["restored"] == "death" for s in doc["spans"])
    # the extracted text comes with the JSON, and the offsets index it
    assert "<" not in doc["text"]
    assert all(doc["text"][s["start"]:s["end"]] == s["text"] for s in doc["spans"])
    broken = tmp_path / "paper.pdf"
    broken.write_bytes(b"%PDF-1.4\n garbage")
    _one_line_error(run(unspin_cli, "check", str(broken)), 2, "paper.pdf: unreadable PDF")
    empty = tmp_path / "empty.html"
    empty.write_text("<html><body><script>x</script></body></html>", encoding="utf-8")
    _one_line_error(run(unspin_cli, "restore", str(empty)), 2, "no text found in the HTML")


def test_unknown_option_is_a_usage_error(unspin_cli: list[str]) -> None:
    out = run(unspin_cli, "check", "--no-such-option")
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert "No such option" in out.stderr


def test_learn_then_use_the_table(unspin_cli: list[str], tmp_path: Path) -> None:
    pairs = tmp_path / "pairs.jsonl"
    rows = [
        {"spun_text": "Many international locations agreed to give a boost to the plan.",
         "original_text": "Many countries agreed to support the plan."},
        {"spun_text": "Few international locations objected.",
         "original_text": "Few countries objected."},
    ]
    pairs.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    table = tmp_path / "learned.tsv"
    out = run(unspin_cli, "learn", "--pairs", str(pairs), "--out", str(table))
    assert out.returncode == 0, out.stderr
    text = table.read_text()
    assert text.startswith("# unspin.learned/1")
    assert "countries\tinternational locations\t2\t2\t" in text
    assert "support\tgive a boost to\t1\t1\t" in text
    res = run(unspin_cli, "check", "--json", "--learned", str(table), "-",
              stdin=b"Several international locations signed the treaty on Monday.")
    assert res.returncode == 0, res.stderr
    spans = json.loads(res.stdout)["spans"]
    hit = [s for s in spans if s["text"] == "international locations"]
    assert hit and hit[0]["restored"] == "countries"
    assert "learned" in hit[0]["candidates"][0]["sources"]


def test_resources_status_says_where(unspin_cli: list[str]) -> None:
    out = run(unspin_cli, "resources", "status")
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert "directory" in info and "inverse.marisa" in info["sizes"]


@pytest.mark.engine
def test_resources_build_readies_the_stored_tables_and_the_neural_model(
        unspin_cli: list[str]) -> None:
    """The setup command's ``resources build --neural`` leaves nothing for the
    first analysis to build: the lemminflect tables are stored, the accurate
    tier's model converted and its phrase vectors stored, where the analyses
    read them."""
    from unspin.lm.neural import _COMPLETE_MARKER
    from unspin.resources.cache import cache_dir

    out = run(unspin_cli, "resources", "build", "--neural")
    assert out.returncode == 0, out.stderr
    assert "resources " in out.stdout
    ready = out.stdout.split("neural LM ready in ", 1)[1].split("\n", 1)[0].strip()
    assert (Path(ready) / _COMPLETE_MARKER).is_file()
    vectors = out.stdout.split("phrase similarity ready in ", 1)[1].split("\n", 1)[0].strip()
    assert (Path(vectors) / "complete").is_file()
    assert Path(vectors).parent == cache_dir() / "similarity"
    assert sorted(p.name.split("-")[2] for p in (cache_dir() / "morph").glob("*.marisa")) == [
        "inflections", "lemmas"]


def test_learn_from_trace(unspin_cli: list[str], tmp_path: Path) -> None:
    sources = tmp_path / "sources.jsonl"
    stories = [
        {"id": "s1", "text": "Prime Minister Narendra Modi said on Tuesday that the number of "
                             "cases in India rose to 10,363, and the death toll rose to 339. "
                             "Officials in New Delhi said testing would expand."},
        {"id": "s2", "text": "Shares of Toyota Motor Corp rose 3 percent in Tokyo on Monday "
                             "after the company raised its forecast for the year to March."},
    ]
    sources.write_text("\n".join(json.dumps(s) for s in stories) + "\n")
    index = tmp_path / "idx"
    built = run(unspin_cli, "index", "build", "--out", str(index), str(sources))
    assert built.returncode == 0, built.stderr
    spun = tmp_path / "spun.jsonl"
    spun.write_text(json.dumps({"text": stories[0]["text"].replace("death toll", "dying toll")
                                .replace("said", "stated")}) + "\n")
    table = tmp_path / "learned.tsv"
    review = tmp_path / "review.csv"
    out = run(unspin_cli, "learn", "--from-trace", str(index), "--texts", str(spun), "--out",
              str(table), "--review", str(review))
    assert out.returncode == 0, out.stderr
    assert "traced 1 of 1" in out.stdout
    assert "death\tdying\t" in table.read_text()
    assert "dying" in review.read_text()
    both = run(unspin_cli, "learn", "--out", str(table))
    assert both.returncode == 2 and "exactly one of" in both.stderr


def test_lm_build_reads_any_corpus_and_reports_bad_records(unspin_cli: list[str],
                                                           tmp_path: Path) -> None:
    corpus = tmp_path / "archive"
    corpus.mkdir()
    (corpus / "a.jsonl").write_text('{"text": "The number of cases rose on Monday."}\n'
                                    '{"id": "no text here"}\n')
    (corpus / "b.txt").write_text("The death toll rose to 68. The number of deaths rose.")
    out = tmp_path / "m.arpa"
    proc = run(unspin_cli, "lm", "build", str(corpus), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "skipped 1 unreadable record" in proc.stderr and "a.jsonl" in proc.stderr
    from unspin.lm.ngram import NgramLM

    lm = NgramLM(out)
    assert lm.sentence_logprob(["the", "death", "toll", "rose"]) > lm.sentence_logprob(
        ["the", "dying", "toll", "rose"])


def test_unknown_scorer_is_one_line(unspin_cli: list[str]) -> None:
    proc = subprocess.run([*unspin_cli, "check", "-", "--scorer", "bert"], input="Some text.",
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "scorer must be one of" in proc.stderr


def test_nothing_flagged_by_the_default_model_says_what_finds_more(
        unspin_cli: list[str], newsroom_lm: str) -> None:
    clean = "The council met on Monday and approved the budget for next year."
    proc = subprocess.run([*unspin_cli, "check", "-", "--plain"], input=clean,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0
    assert proc.stderr.startswith("tip: nothing flagged by the default n-gram model")
    assert "tip:" not in proc.stdout  # piped output stays the analysis alone
    with_lm = subprocess.run([*unspin_cli, "check", "-", "--plain", "--lm", newsroom_lm],
                             input=clean, capture_output=True, text=True, timeout=120)
    assert with_lm.returncode == 0 and "tip:" not in with_lm.stderr
    as_json = subprocess.run([*unspin_cli, "check", "-", "--json"], input=clean,
                             capture_output=True, text=True, timeout=120)
    assert as_json.returncode == 0 and "tip:" not in as_json.stderr


def test_unknown_neural_precision_is_one_line(unspin_cli: list[str]) -> None:
    proc = subprocess.run([*unspin_cli, "check", "-", "--neural-precision", "half"],
                          input="Some text.", capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "neural_precision must be one of" in proc.stderr


def test_accurate_tier_from_the_command_line(unspin_cli: list[str], newsroom_lm: str) -> None:
    text = ("The assortment of Covid-19 cases climbed to 2,902 on Saturday while the "
            "dying toll rose to 68, the ministry stated.")
    proc = subprocess.run([*unspin_cli, "check", "-", "--json", "--scorer", "neural",
                           "--lm", newsroom_lm], input=text, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["restored_text"] != text
    assert any(s["text"] == "dying" and s["restored"] == "death" for s in doc["spans"])


def test_same_output_in_every_process(unspin_cli: list[str], newsroom_lm: str) -> None:
    """String hashing differs per process; no decision may depend on set order."""
    import os

    outs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        proc = subprocess.run([*unspin_cli, "check", str(EXAMPLE), "--json", "--lm", newsroom_lm],
                              capture_output=True, text=True, timeout=300, env=env)
        assert proc.returncode == 0, proc.stderr
        doc = json.loads(proc.stdout)
        doc.pop("timings", None)
        outs.append(json.dumps(doc, sort_keys=True))
    assert outs[0] == outs[1]


def test_plain_view_says_why_the_document_is_spun(unspin_cli: list[str],
                                                  tmp_path: Path) -> None:
    """Document-level evidence (a spun autoblog footer, the verdict it moved) is printed
    under the spans, so the score is never left unexplained."""
    page = tmp_path / "post.txt"
    page.write_text("Shares rose 3 percent on Tuesday, the company stated.\n\nSupply hyperlink\n",
                    encoding="utf-8")
    out = run(unspin_cli, "check", str(page), "--plain")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "'Supply hyperlink' -> 'Source link'" in out.stdout
    at = lines.index("document evidence:")
    body = lines[at + 1 :]
    assert any(x.startswith("  signature: supply-hyperlink [autoblog-footer]") for x in body)
    assert any(x.startswith("  verdict: P(spun)") and "boilerplate" in x for x in body)
