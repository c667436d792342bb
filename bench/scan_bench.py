"""Benchmark ``unspin scan``: screen-mode throughput, 1 -> 2 workers, Spark local[2].

    .venv/bin/python bench/scan_bench.py [--docs 400] [--data-dir ../shared/data]

Takes the first ``--docs`` stories of Reuters-21578 and BBC (3:1) into a temp
JSONL file (never into the repo), then runs, each in a fresh process:

* local scan, 1 worker and 2 workers (the pool; resources load per worker),
* the Spark job on ``local[2]`` (session start-up reported separately).

Prints a Markdown table. MB/s per core is text bytes divided by the core's own
time (sum of ``elapsed_s``); wall MB/s includes resource loading, and peak RSS
is the largest resident set of any one worker process.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _sample(data_dir: Path, n: int, dest: Path) -> int:
    n_bbc = n // 4
    out = 0
    with dest.open("w", encoding="utf-8") as fh:
        for name, k in (("reuters21578.jsonl", n - n_bbc), ("bbc2225.jsonl", n_bbc)):
            with (data_dir / "corpora" / name).open(encoding="utf-8") as src:
                for i, line in enumerate(src):
                    if i >= k:
                        break
                    obj = json.loads(line)
                    fh.write(json.dumps({"id": obj["id"], "text": obj["text"]}) + "\n")
                    out += len(obj["text"].encode("utf-8"))
    return out


def _run_one(engine: str, data: str, out: str) -> dict[str, object]:
    from unspin.config import Config
    from unspin.scan.manifest import read_rows

    config = Config(mode="screen")
    t0 = time.perf_counter()
    extra: dict[str, float] = {}
    if engine == "spark":
        from unspin.scan.spark import scan_spark

        res = scan_spark([data], out, config, master="local[2]", batch_size=25)
        extra = {"session_s": res.timings["session_s"], "job_s": res.timings["job_s"]}
    else:
        from unspin.scan.local import scan_local

        workers = int(engine.removeprefix("local"))
        res = scan_local([data], out, config, workers=workers, batch_size=25)
    wall = time.perf_counter() - t0
    rows = read_rows(Path(out)).to_pylist()
    text_bytes = sum(int(r["length"]) for r in rows)
    core_s = sum(float(r["elapsed_s"]) for r in rows)
    rss_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rss_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"engine": engine, "docs": len(rows), "chars": text_bytes, "wall_s": wall,
            "core_s": core_s, "rss_self_mb": rss_self / 1024, "rss_child_mb": rss_children / 1024,
            **extra}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=400)
    ap.add_argument("--data-dir", default=os.environ.get("UNSPIN_DATA_DIR",
                                                         str(ROOT.parent / "shared" / "data")))
    ap.add_argument("--run", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--data", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--out", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--engines", default="local1,local2,spark")
    args = ap.parse_args()
    if args.run:
        print(json.dumps(_run_one(args.run, args.data, args.out)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "sample.jsonl"
        nbytes = _sample(Path(args.data_dir), args.docs, data)
        results = []
        for engine in args.engines.split(","):
            proc = subprocess.run([sys.executable, __file__, "--run", engine, "--data",
                                   str(data), "--out", str(Path(tmp) / engine)],
                                  capture_output=True, text=True, check=True)
            results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    mb = nbytes / 1e6
    print(f"Sample: {args.docs} docs (Reuters:BBC 3:1), {mb:.2f} MB of text, mode screen, "
          f"{os.cpu_count()} CPUs.\n")
    print("| engine | docs | wall s | wall MB/s | core MB/s per core | speed-up vs 1 worker "
          "| Spark session s | peak RSS per worker MB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    base = next((r["wall_s"] for r in results if r["engine"] == "local1"), None)
    for r in results:
        wall = float(r["wall_s"])  # type: ignore[arg-type]
        per_core = mb / float(r["core_s"]) if r["core_s"] else float("nan")  # type: ignore[arg-type]
        session = r.get("session_s")
        job_wall = float(r.get("job_s", wall))  # type: ignore[arg-type]
        rss = r["rss_self_mb"] if r["engine"] == "local1" else r["rss_child_mb"]
        speed = f"{float(base) / job_wall:.2f}x" if base else "-"
        print(f"| {r['engine']} | {r['docs']} | {wall:.1f}"
              f"{f' (job {job_wall:.1f})' if session is not None else ''} | {mb / job_wall:.3f} "
              f"| {per_core:.3f} | {speed} | "
              f"{f'{float(session):.1f}' if session is not None else '-'} | "  # type: ignore[arg-type]
              f"{'n/a' if r['engine'] == 'spark' else f'{float(rss):.0f}'} |")  # type: ignore[arg-type]
    print("\nWall time includes loading resources: once per scan for the local engines (the"
          " pool forks after the parent loads them), once per Python worker for Spark."
          " Spark wall MB/s excludes"
          " session start-up (its own column); Spark's Python workers are children of the JVM,"
          " so their RSS is not measured here.")


if __name__ == "__main__":
    main()
