"""From inputs to units of work, identically for the local scan and Spark.

* A **file** comes from :func:`unspin.io.records.expand_inputs` (folders walked,
  listings expanded, sorted, duplicates removed).
* A **unit** is ``batch_size`` consecutive records of one file (``start``,
  ``stop`` in the file's record numbering). Its key ``path#start`` is what
  the manifest records as finished. Big JSONL/WARC files split into many units,
  so two workers share a single big file.
* A **task** is a list of units, at most ``batch_size`` records in total;
  small files (one record each) are grouped so a part file holds a useful
  number of rows. Tasks are re-planned on resume from the units not yet done;
  a task's part-file name is a hash of its unit keys.

Planning counts each file's records once (:func:`unspin.io.records.count_records`,
no text extraction), which makes the progress total exact.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from unspin.io.records import count_records, expand_inputs

#: Records per unit and per part file, unless the caller says otherwise.
DEFAULT_BATCH = 200


@dataclass(frozen=True, slots=True)
class Unit:
    path: str
    start: int
    stop: int

    @property
    def key(self) -> str:
        return f"{self.path}#{self.start}"

    @property
    def size(self) -> int:
        return self.stop - self.start


def plan_units(inputs: Iterable[str], batch_size: int = DEFAULT_BATCH, text_field: str = "text",
               id_field: str = "id") -> list[Unit]:
    """Every unit of every input file, in a deterministic order."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    units: list[Unit] = []
    for path in expand_inputs(inputs):
        n = count_records(path, text_field, id_field)
        for start in range(0, n, batch_size):
            units.append(Unit(path, start, min(n, start + batch_size)))
    return units


def group_tasks(units: Sequence[Unit], batch_size: int = DEFAULT_BATCH) -> list[list[Unit]]:
    """Consecutive units packed into tasks of at most ``batch_size`` records."""
    tasks: list[list[Unit]] = []
    current: list[Unit] = []
    size = 0
    for u in units:
        if current and size + u.size > batch_size:
            tasks.append(current)
            current, size = [], 0
        current.append(u)
        size += u.size
    if current:
        tasks.append(current)
    return tasks


def part_name(task: Sequence[Unit]) -> str:
    """Deterministic part-file name of a task (hash of its unit keys)."""
    digest = hashlib.sha1("\n".join(u.key for u in task).encode("utf-8")).hexdigest()[:20]
    return f"part-{digest}.parquet"
