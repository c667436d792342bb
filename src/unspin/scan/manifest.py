"""The scan manifest: what is finished, written so that ``kill -9`` loses nothing.

The output folder of a local scan holds Parquet part files and
``manifest.jsonl``. The manifest is the single source of truth; a part file
that it does not name does not exist as far as the scan is concerned.

Protocol (every step is safe to interrupt):

1. A task's rows are written to ``.tmp-part-….parquet``, fsync'ed, and renamed
   to ``part-<hash of its unit keys>.parquet`` (atomic on POSIX), then the
   folder is fsync'ed.
2. One JSON line ``{"kind": "part", "part": …, "units": [...]}`` is appended
   to the manifest with a single ``write`` and fsync'ed.

On start, a partial last manifest line (killed mid-write) is cut off, every
``.tmp-*`` file is deleted, and every part file the manifest does not name is
deleted (killed between steps 1 and 2): its units are not marked done, so they
are scanned again into a fresh part. Hence no record is lost (a unit is only
marked done after its rows are durable) and none is duplicated (rows of an
unfinished unit are never kept).

The first line is a header with the scan's settings; resuming with different
settings is refused rather than mixing two scans in one folder.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from unspin.errors import InputError

MANIFEST = "manifest.jsonl"
FORMAT = "unspin.scan-manifest/1"


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a fsync'ed temporary file and a rename."""
    tmp = path.with_name(f".tmp-{path.name}.{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def write_table_atomic(table: Any, path: Path) -> None:
    """Write a pyarrow table as Parquet to ``path`` atomically (tmp + fsync + rename)."""
    import pyarrow.parquet as pq

    tmp = path.with_name(f".tmp-{path.name}.{os.getpid()}")
    pq.write_table(table, tmp, compression="zstd")
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


class Manifest:
    """Append-only, fsync'ed JSON lines describing finished work in ``out_dir``."""

    def __init__(self, out_dir: Path, entries: list[dict[str, Any]]) -> None:
        self.out_dir = out_dir
        self.path = out_dir / MANIFEST
        self.entries = entries

    @classmethod
    def open(cls, out_dir: Path, settings: dict[str, Any]) -> Manifest:
        """Open (or start) the manifest of ``out_dir`` and clean up after a crash."""
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / MANIFEST
        entries: list[dict[str, Any]] = []
        if path.exists():
            raw = path.read_bytes()
            if raw and not raw.endswith(b"\n"):  # killed mid-line: drop the fragment
                raw = raw[: raw.rfind(b"\n") + 1]
                with open(path, "r+b") as fh:
                    fh.truncate(len(raw))
                    os.fsync(fh.fileno())
            for line in raw.splitlines():
                if line.strip():
                    entries.append(json.loads(line))
        manifest = cls(out_dir, entries)
        if entries:
            header = entries[0]
            if header.get("kind") != "header" or header.get("format") != FORMAT:
                raise InputError(f"{path}: not an unspin scan manifest; choose another --out")
            if header.get("settings") != settings:
                raise InputError(
                    f"{out_dir} holds a scan with different settings "
                    f"({_diff(header.get('settings', {}), settings)}); rerun the same "
                    "command to resume it, or choose another --out"
                )
        else:
            manifest.append({"kind": "header", "format": FORMAT, "settings": settings})
        manifest.clean()
        return manifest

    def append(self, entry: dict[str, Any]) -> None:
        line = (json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        self.entries.append(entry)

    def clean(self) -> None:
        """Delete temporary files and part files the manifest does not name."""
        named = self.parts()
        for f in self.out_dir.iterdir():
            if f.name.startswith(".tmp-") or (
                f.name.startswith("part-") and f.name.endswith(".parquet") and f.name not in named
            ):
                f.unlink(missing_ok=True)

    def parts(self) -> dict[str, dict[str, Any]]:
        """Part file name → its manifest entry."""
        return {e["part"]: e for e in self.entries if e.get("kind") == "part"}

    def done_units(self) -> set[str]:
        return {k for e in self.entries if e.get("kind") == "part" for k in e["units"]}

    def rescore_selection(self, k: int) -> list[str] | None:
        for e in reversed(self.entries):
            if e.get("kind") == "rescore-selected" and e.get("k") == k:
                return list(e["ids"])
        return None

    def rescore_done(self, k: int) -> bool:
        return any(e.get("kind") == "rescore-done" and e.get("k") == k for e in self.entries)

    def rescored_parts(self, k: int) -> set[str]:
        return {e["part"] for e in self.entries if e.get("kind") == "rescored"
                and e.get("k") == k}


def _diff(old: dict[str, Any], new: dict[str, Any]) -> str:
    keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    return ", ".join(f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in keys) or "unknown"


def part_files(out_dir: Path) -> list[Path]:
    """The Parquet part files of a scan, sorted: for a local scan those its
    manifest names (a stray file never counts), for a Spark scan every part."""
    found = sorted(p for p in out_dir.glob("part-*.parquet"))
    manifest = out_dir / MANIFEST
    if not manifest.exists():
        return found
    named: set[str] = set()
    for line in manifest.read_bytes().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:  # a fragment left by kill -9 names nothing
            continue
        if entry.get("kind") == "part":
            named.add(entry["part"])
    return [p for p in found if p.name in named]


def read_rows(out_dir: Path, columns: Iterable[str] | None = None) -> Any:
    """All rows of a scan output folder as one pyarrow Table with the row schema."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from unspin.scan.schema import arrow_schema

    schema = arrow_schema()
    cols = list(columns) if columns is not None else None
    if cols is not None:
        schema = pa.schema([schema.field(c) for c in cols])
    tables = [pq.read_table(p, columns=cols).cast(schema) for p in part_files(out_dir)]
    if not tables:
        return schema.empty_table()
    return pa.concat_tables(tables)
