"""Throughput of the fingerprint matcher, single core.

Runs the full PPS dev list over the Reuters-21578 corpus and prints a
markdown table: MB/s (UTF-8 bytes of the ``text`` field) for

* ``matcher.scan``: gate + grammar evaluation, what ``unspin`` uses;
* ``matcher gate only``: lower-case, fold, one Aho-Corasick pass;
* ``str.find loop``: the naive baseline, measured in the same run: lower-case
  the document and ``str.find`` every anchor phrase (the first quoted phrase
  of every query), with no folding and no evaluation.

Usage::

    python bench/fingerprints_bench.py [--csv PATH] [--corpus PATH] [--repeat N] [--limit N]

The best of ``--repeat`` runs is reported. MB/s per core divides by the CPU
time of this process, which stays meaningful on a shared machine; wall-clock
MB/s is printed too.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable
from pathlib import Path

from unspin.fingerprints.grammar import Proximity, parse, positive_phrases
from unspin.fingerprints.matcher import FingerprintMatcher
from unspin.fingerprints.store import import_pps_csv

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def best_seconds(fn: Callable[[], int], repeat: int) -> tuple[float, float, int]:
    """Best wall-clock and best CPU (process) seconds over ``repeat`` runs."""
    wall, cpu, result = float("inf"), float("inf"), 0
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        cpu = min(cpu, time.process_time() - c0)
        wall = min(wall, time.perf_counter() - w0)
    return wall, cpu, result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--csv", type=Path, default=DATA / "dev" / "pps_fingerprints_dev.csv")
    ap.add_argument("--corpus", type=Path, default=DATA / "corpora" / "reuters21578.jsonl")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--limit", type=int, default=0, help="use only the first N documents")
    args = ap.parse_args()

    report = import_pps_csv(args.csv, name="bench")
    if report.failures:
        raise SystemExit(f"{len(report.failures)} queries failed to import; run the CLI dry run")
    fset = report.set
    t0 = time.perf_counter()
    matcher = FingerprintMatcher([fset])
    build = time.perf_counter() - t0

    with args.corpus.open(encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for line in fh if line.strip()]
    if args.limit:
        texts = texts[: args.limit]
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6

    anchors: list[str] = []
    for fp in fset.fingerprints:
        leaf = positive_phrases(parse(fp.query))[0]
        words = leaf.words if not isinstance(leaf, Proximity) else leaf.words[:1]
        anchors.append(" ".join(words))

    def run_scan() -> int:
        return sum(len(matcher.scan(t)) for t in texts)

    def run_gate() -> int:
        return sum(1 for t in texts if matcher.candidates(t))

    def run_find() -> int:
        hits = 0
        for t in texts:
            low = t.lower()
            for a in anchors:
                if low.find(a) != -1:
                    hits += 1
        return hits

    t_find, c_find, n_find = best_seconds(run_find, args.repeat)
    t_gate, c_gate, n_gate = best_seconds(run_gate, args.repeat)
    t_scan, c_scan, n_scan = best_seconds(run_scan, args.repeat)

    print(
        f"{len(fset.fingerprints)} queries ({matcher.anchors} anchor keys, "
        f"built in {build:.2f} s), "
        f"{len(texts)} documents, {mb:.1f} MB, Python {platform.python_version()}, "
        f"best of {args.repeat}; MB/s per core uses CPU time of this process\n"
    )
    print("| method | CPU s | MB/s per core | wall s | MB/s wall | vs str.find (CPU) | result |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for label, secs, cpu, result in (
        ("matcher.scan (gate + grammar)", t_scan, c_scan, f"{n_scan} hits"),
        ("matcher gate only", t_gate, c_gate, f"{n_gate} docs with a candidate"),
        ("str.find loop over all anchors", t_find, c_find, f"{n_find} raw anchor hits"),
    ):
        print(
            f"| {label} | {cpu:.2f} | {mb / cpu:.2f} | {secs:.2f} | {mb / secs:.2f} "
            f"| {c_find / cpu:.1f}x | {result} |"
        )


if __name__ == "__main__":
    main()
