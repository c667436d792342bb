"""Work that runs inside a worker: a local pool process or a Spark executor.

Everything here is importable by reference (pickled by module path), which is
what Spark's Python workers need. Resources load once per process: the first
call of :func:`warm` asks :func:`unspin.resources.bundle.get_bundle` for the
bundle, which is memoised per process (the n-gram model and inverse index are
memory-mapped, so the page cache shares them between workers).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from unspin.config import Config
from unspin.io.records import iter_file
from unspin.scan.plan import Unit, part_name
from unspin.scan.rows import analyze_record

#: Per-process cache: config → seconds it took to load its resources.
_WARM: dict[Config, float] = {}


def warm(config: Config) -> float:
    """Load resources for ``config`` once per process; seconds it took (0 if cached)."""
    if config not in _WARM:
        from unspin.resources.bundle import get_bundle

        t0 = time.perf_counter()
        get_bundle(config)
        _WARM[config] = time.perf_counter() - t0
        return _WARM[config]
    return 0.0


def iter_rows(task: Sequence[Unit], config: Config, text_field: str,
              id_field: str) -> Iterator[dict[str, Any]]:
    """Rows of every record of every unit of a task, in order."""
    warm(config)
    for unit in task:
        for record in iter_file(unit.path, text_field, id_field, start=unit.start,
                                stop=unit.stop):
            yield analyze_record(record, config)


@dataclass(frozen=True, slots=True)
class TaskDone:
    part: str
    units: tuple[str, ...]
    n: int
    errors: int
    spun: int
    chars: int


def run_task(task: Sequence[Unit], config: Config, text_field: str, id_field: str,
             out_dir: str) -> TaskDone:
    """Analyse a task and write its part file atomically (the local scan's unit of work)."""
    from unspin.scan.manifest import write_table_atomic
    from unspin.scan.schema import to_table

    rows = list(iter_rows(task, config, text_field, id_field))
    name = part_name(task)
    write_table_atomic(to_table(rows), Path(out_dir) / name)
    return TaskDone(name, tuple(u.key for u in task), len(rows),
                    sum(1 for r in rows if r["error"] is not None),
                    sum(1 for r in rows if r["spun"]), sum(int(r["length"]) for r in rows))


def rescore_rows(rows: list[dict[str, Any]], ids: frozenset[str], task: Sequence[Unit],
                 config: Config, text_field: str, id_field: str) -> list[dict[str, Any]]:
    """``rows`` with the rows whose id is in ``ids`` re-analysed under ``config``."""
    warm(config)
    fresh: dict[str, dict[str, Any]] = {}
    for unit in task:
        for record in iter_file(unit.path, text_field, id_field, start=unit.start,
                                stop=unit.stop):
            if record.id in ids:
                fresh[record.id] = analyze_record(record, config)
    return [fresh.get(r["id"], r) for r in rows]
