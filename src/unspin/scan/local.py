"""The local scan: a process pool over units of records, resumable after ``kill -9``.

``scan_local`` plans units (:mod:`unspin.scan.plan`), skips those the manifest
(:mod:`unspin.scan.manifest`) already records as finished, groups the rest into
tasks and runs them on ``workers`` processes (in-process for ``workers=1``).
Each task writes its own part file atomically; the parent appends one fsync'ed
manifest line per finished task. With ``workers > 1`` the parent loads the
resources (:func:`unspin.scan.worker.warm`) and the pool is forked after that
and before the progress thread starts, so the workers share them copy-on-write
instead of each loading its own.

``--rescore-top K`` (``rescore_top``) runs after the screen pass: the K
highest-scoring rows (ties broken by id) are selected once and the selection
is written to the manifest *before* any row changes, so a resumed rescore
works on the same K documents. Each part file holding selected rows is
rewritten with those rows re-analysed in ``full`` mode, to a temporary file
that atomically replaces the part under the same name; rows are therefore
replaced, never appended, and an interrupted rescore simply redoes the parts
not yet marked ``rescored`` (re-analysis is deterministic, so redoing one is
harmless).

Finally ``summary.json`` is written (atomically) from all rows.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from unspin.config import Config
from unspin.errors import InputError
from unspin.scan.manifest import Manifest, read_rows, write_atomic, write_table_atomic
from unspin.scan.plan import DEFAULT_BATCH, Unit, group_tasks, plan_units
from unspin.scan.progress import Reporter, SilentReporter
from unspin.scan.schema import NAMES
from unspin.scan.worker import TaskDone, rescore_rows, run_task, warm

SUMMARY = "summary.json"

#: Exit codes of ``unspin scan``.
EXIT_OK, EXIT_SOME_FAILED, EXIT_NOTHING_READ = 0, 1, 2


@dataclass
class ScanResult:
    out_dir: Path
    summary: dict[str, Any]
    exit_code: int
    timings: dict[str, float] = field(default_factory=dict)


def settings_of(inputs: Sequence[str], config: Config, text_field: str, id_field: str,
                batch_size: int) -> dict[str, Any]:
    """What must be identical for a rerun to resume a scan (the row columns too:
    part files written by a version with other columns would not read as one table)."""
    settings = {"inputs": list(inputs), "mode": config.mode, "text_field": text_field,
                "id_field": id_field, "batch_size": batch_size, "scorer": config.scorer,
                "ngram_path": config.ngram_path, "sources": list(config.sources),
                "learned_tables": list(config.learned_tables),
                "favor_precision": config.favor_precision,
                "favor_recall": config.favor_recall, "columns": list(NAMES)}
    if config.scorer == "neural":
        # bfloat16 and float32 scores differ slightly; an n-gram scan's settings
        # stay as they were, so scans begun before this key existed still resume
        settings["neural_precision"] = config.neural_precision
    return settings


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this worker when the scan process dies (``kill -9``),
    so no orphan keeps writing part files into a folder a rerun is resuming."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _ranges(task: Sequence[Unit]) -> list[list[Any]]:
    return [[u.path, u.start, u.stop] for u in task]


def _run_tasks(tasks: list[list[Unit]], config: Config, text_field: str, id_field: str,
               out_dir: Path, workers: int, manifest: Manifest, progress: Reporter) -> None:
    def record(done: TaskDone, task: Sequence[Unit]) -> None:
        manifest.append({"kind": "part", "part": done.part, "units": list(done.units),
                         "ranges": _ranges(task), "n": done.n, "errors": done.errors})
        progress.advance(done.n)

    if workers <= 1 or len(tasks) <= 1:
        for task in tasks:
            record(run_task(task, config, text_field, id_field, str(out_dir)), task)
        return
    # Load resources once, here, before forking: every worker inherits them
    # copy-on-write instead of loading its own (about a second each, a large
    # share of a short scan), and gc.freeze() keeps the collector from
    # touching, and so copying, the inherited objects' pages.
    warm(config)
    gc.freeze()
    try:
        _run_pool(tasks, config, text_field, id_field, out_dir, workers, record)
    finally:
        gc.unfreeze()  # the caller's collector as it was


def _run_pool(tasks: list[list[Unit]], config: Config, text_field: str, id_field: str,
              out_dir: Path, workers: int, record: Callable[[TaskDone, Sequence[Unit]], None]
              ) -> None:
    """Tasks on a forked pool, at most two in flight per worker, recorded as they finish."""
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_die_with_parent) as pool:
        todo: Iterator[list[Unit]] = iter(tasks)
        pending: dict[Future[TaskDone], list[Unit]] = {}

        def submit() -> None:
            task = next(todo, None)
            if task is not None:
                pending[pool.submit(run_task, task, config, text_field, id_field,
                                    str(out_dir))] = task

        for _ in range(2 * workers):
            submit()
        try:
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    task = pending.pop(fut)
                    record(fut.result(), task)
                    submit()
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def _rescore(k: int, config: Config, text_field: str, id_field: str, out_dir: Path,
             workers: int, manifest: Manifest, progress: Reporter) -> None:
    import pyarrow.parquet as pq

    ids = manifest.rescore_selection(k)
    if ids is None:
        table = read_rows(out_dir, ["id", "score", "error"])
        scored = [(s, i) for i, s, e in zip(table["id"].to_pylist(), table["score"].to_pylist(),
                                            table["error"].to_pylist(), strict=True)
                  if e is None and s is not None]
        ids = [i for _, i in sorted(scored, key=lambda t: (-t[0], t[1]))[:k]]
        manifest.append({"kind": "rescore-selected", "k": k, "ids": ids})
    selected = frozenset(ids)
    full = config.merged(mode="full")
    done = manifest.rescored_parts(k)
    jobs: list[tuple[str, list[Unit]]] = []
    for name, entry in sorted(manifest.parts().items()):
        if name in done:
            continue
        part_ids = set(pq.read_table(out_dir / name, columns=["id"])["id"].to_pylist())
        if part_ids & selected:
            jobs.append((name, [Unit(p, s, e) for p, s, e in entry["ranges"]]))
    pending = 0
    for name, _ in jobs:
        pending += len(set(pq.read_table(out_dir / name, columns=["id"])["id"].to_pylist())
                       & selected)
    progress.start(f"rescore top {k} (full)", len(selected), len(selected) - pending)
    args = (selected, full, text_field, id_field)
    if workers <= 1 or len(jobs) <= 1:
        for name, task in jobs:
            n = _rescore_part(str(out_dir), name, task, *args)
            manifest.append({"kind": "rescored", "k": k, "part": name})
            progress.advance(n)
    else:
        ctx = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_die_with_parent) as pool:
            futs = {pool.submit(_rescore_part, str(out_dir), name, task, *args): name
                    for name, task in jobs}
            for fut in futs:
                n = fut.result()
                manifest.append({"kind": "rescored", "k": k, "part": futs[fut]})
                progress.advance(n)
    manifest.append({"kind": "rescore-done", "k": k})


def _rescore_part(out_dir: str, name: str, task: list[Unit], selected: frozenset[str],
                  config: Config, text_field: str, id_field: str) -> int:
    import pyarrow.parquet as pq

    from unspin.scan.schema import to_table

    path = Path(out_dir) / name
    rows = pq.read_table(path).to_pylist()
    new = rescore_rows(rows, selected, task, config, text_field, id_field)
    write_table_atomic(to_table(new), path)
    return sum(1 for r in rows if r["id"] in selected)


def exit_code_for(summary: dict[str, Any]) -> int:
    """0 all ok, 1 some records failed, 2 nothing could be read."""
    n, errors = int(summary["records"]), int(summary["errors"])
    if n == 0 or errors == n:
        return EXIT_NOTHING_READ
    return EXIT_SOME_FAILED if errors else EXIT_OK


def scan_local(inputs: Sequence[str], out_dir: str | Path, config: Config, *, workers: int = 1,
               batch_size: int = DEFAULT_BATCH, text_field: str = "text", id_field: str = "id",
               rescore_top: int = 0, progress: Reporter | None = None) -> ScanResult:
    """Scan ``inputs`` into ``out_dir`` (resuming it if it holds the same scan)."""
    from unspin.report.summary import summarize

    if not inputs:
        raise InputError("no inputs: give files, folders or a .lst/.paths listing")
    if workers < 1:
        raise InputError("--workers must be at least 1")
    if rescore_top < 0:
        raise InputError("--rescore-top must be 0 or more")
    progress = progress or SilentReporter()
    out = Path(out_dir)
    t0 = time.perf_counter()
    manifest = Manifest.open(out, settings_of(inputs, config, text_field, id_field, batch_size))
    units = plan_units(inputs, batch_size, text_field, id_field)
    t_plan = time.perf_counter()
    done = manifest.done_units()
    todo = [u for u in units if u.key not in done]
    total = sum(u.size for u in units)
    progress.start(f"scan ({config.mode})", total, total - sum(u.size for u in todo))
    try:
        _run_tasks(group_tasks(todo, batch_size), config, text_field, id_field, out,
                   workers, manifest, progress)
        t_scan = time.perf_counter()
        if rescore_top and not manifest.rescore_done(rescore_top):
            _rescore(rescore_top, config, text_field, id_field, out, workers, manifest, progress)
    finally:
        progress.finish()
    t_end = time.perf_counter()
    manifest.clean()
    summary = summarize(read_rows(out))
    summary.update({"engine": "local", "workers": workers, "inputs": list(inputs),
                    "files": len({u.path for u in units}), "units": len(units),
                    "rescore_top": rescore_top,
                    "this_run": {"records_scanned": sum(u.size for u in todo),
                                 "plan_s": round(t_plan - t0, 3),
                                 "scan_s": round(t_scan - t_plan, 3),
                                 "total_s": round(t_end - t0, 3)}})
    code = exit_code_for(summary)
    summary["exit_code"] = code
    write_atomic(out / SUMMARY, (json.dumps(summary, indent=2, sort_keys=True) + "\n")
                 .encode("utf-8"))
    return ScanResult(out, summary, code, {"plan_s": t_plan - t0, "scan_s": t_scan - t_plan,
                                           "total_s": t_end - t0})
