"""``kill -9`` at 20 random moments, resume each time: nothing lost, nothing duplicated.

The scan runs in a subprocess (the real CLI) and is SIGKILLed after a random
sleep (every fourth kill anywhere in start-up, the others at a random moment
after the run has committed its first part, so every round makes progress and
is then interrupted mid-scan); the same command is rerun each time. The final rows must equal
those of an uninterrupted run (sorted by id, ``elapsed_s`` excluded). Rounds
alternate 1 and 2 workers, so resuming with another worker count is covered
too.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from test_scan_corpus import assert_same_rows, make_corpus, rows_by_id

KILLS = 20


def _cmd(corpus: Path, out: Path, workers: int) -> list[str]:
    return [sys.executable, "-m", "unspin.cli.scan", "scan", str(corpus), "--out", str(out),
            "--mode", "screen", "--quiet", "--batch-size", "2", "--workers", str(workers)]


def test_sigkill_at_random_points_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    rng = random.Random(20240611)
    corpus = tmp_path / "corpus"
    make_corpus(corpus, n=900, seed=3)
    env = dict(os.environ)
    ref = tmp_path / "ref"
    t0 = time.monotonic()
    done = subprocess.run(_cmd(corpus, ref, 1), env=env, capture_output=True, timeout=300)
    t_ref = time.monotonic() - t0
    assert done.returncode == 1, done.stderr.decode()[-2000:]  # broken inputs are error rows
    expected = rows_by_id(ref)

    out = tmp_path / "out"
    manifest = out / "manifest.jsonl"

    def committed() -> int:
        return manifest.read_bytes().count(b"\n") if manifest.exists() else 0

    killed = 0
    for i in range(KILLS):
        before = committed()
        proc = subprocess.Popen(_cmd(corpus, out, 1 + i % 2), env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if i % 4 == 0:
            # Anywhere in start-up: imports, manifest recovery, planning, loading.
            # (bounded: a long sleep would let one run finish most of the corpus)
            time.sleep(rng.uniform(0.0, min(1.5, 0.6 * t_ref)))
        else:
            # Mid-scan: after this run committed its first part, at a random moment.
            deadline = time.monotonic() + 120
            while committed() <= before and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 0.1))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            killed += 1
        proc.wait(timeout=60)
    assert killed == KILLS, f"only {killed} kills landed before the scan finished"
    final = subprocess.run(_cmd(corpus, out, 2), env=env, capture_output=True, timeout=300)
    assert final.returncode == 1, final.stderr.decode()[-2000:]
    got = rows_by_id(out)  # asserts no duplicated id
    assert_same_rows(expected, got)  # nothing lost, nothing changed
    assert not list(out.glob(".tmp-*"))
