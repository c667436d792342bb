"""Fingerprint sets with provenance: PPS CSV import/export and a versioned JSON store.

A :class:`FingerprintSet` is one named list (for example the PPS export of a
given day) plus where it came from: ``source`` (path or URL as given),
``date`` (ISO date of import), ``sha256`` (of the source file's bytes) and
``count``. Sets are saved one per file as ``<dir>/<name>.json``::

    {"format": "unspin.fingerprints/1", "name": ..., "source": ..., "date": ...,
     "count": N, "sha256": ..., "fingerprints": [{"id", "query", "expected",
     "num_papers", "line"}, ...]}

and ``<dir>`` defaults to ``<cache>/fingerprints/`` where ``<cache>`` is
``$UNSPIN_CACHE`` or ``~/.cache/unspin``. Several sets can be stored side by
side; the matcher merges them and every hit names its set. unspin ships no
third-party list: a set exists only after a user imports one.

Import never drops a row silently. Every row that cannot be used (a query
that does not parse, a malformed ``num_papers``, a wrong column count, a
duplicate query) is reported with its line number and a one-line reason in
:class:`ImportReport`; the caller decides whether a partial set is acceptable.

JSON rather than a binary format: the lists are small (the full PPS export is
about 7,600 queries, under 2 MB) and a reviewer should be able to read and
diff them. Loading re-parses every query, so a corrupt or hand-edited file
fails at load time with the fingerprint id, not at match time.
"""

from __future__ import annotations

import csv
import datetime as _dt
import hashlib
import io
import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from unspin.errors import FormatError, ResourceError
from unspin.fingerprints.grammar import Phrase, features, parse

FORMAT = "unspin.fingerprints/1"
CSV_COLUMNS = ("tortured_phrase", "expected_phrase", "num_papers")
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_NUM_RE = re.compile(r"\d{1,3}(?:,\d{3})+|\d+")


# ---------------------------------------------------------------- locations


def cache_dir() -> Path:
    """unspin's cache root (``$UNSPIN_CACHE`` or ``~/.cache/unspin``), shared with resources."""
    from unspin.resources.cache import cache_dir as versioned

    return versioned().parent


def fingerprints_dir() -> Path:
    """Default directory of stored fingerprint sets: ``<cache>/fingerprints``."""
    return cache_dir() / "fingerprints"


# ---------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """One query of a list. ``id`` is a hash of the query, stable across imports."""

    id: str
    query: str
    expected: str
    num_papers: int
    line: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "query": self.query,
            "expected": self.expected,
            "num_papers": self.num_papers,
            "line": self.line,
        }


def fingerprint_id(query: str) -> str:
    return hashlib.sha256(query.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class FingerprintSet:
    """A named list of fingerprints and its provenance."""

    name: str
    source: str
    date: str
    count: int
    sha256: str
    fingerprints: tuple[Fingerprint, ...]

    def __post_init__(self) -> None:
        validate_name(self.name)
        if self.count != len(self.fingerprints):
            raise FormatError(
                f"set {self.name!r} says count={self.count} but holds "
                f"{len(self.fingerprints)} fingerprints; the file was truncated or edited"
            )

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "name": self.name,
            "source": self.source,
            "date": self.date,
            "count": self.count,
            "sha256": self.sha256,
            "fingerprints": [f.to_json() for f in self.fingerprints],
        }


def validate_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise ValueError(
            f"invalid set name {name!r}; use 1-64 letters, digits, '_', '-' or '.', "
            "starting with a letter or digit"
        )
    return name


@dataclass(frozen=True, slots=True)
class ImportFailure:
    """A CSV row that was not imported, and why."""

    line: int
    reason: str
    raw: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(frozen=True, slots=True)
class ImportReport:
    """Result of an import: the set of good rows plus every failure."""

    set: FingerprintSet
    failures: tuple[ImportFailure, ...]
    operators: dict[str, int] = field(default_factory=dict)
    rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.failures


# ---------------------------------------------------------------- CSV


def operator_counts(fingerprints: Iterable[Fingerprint]) -> dict[str, int]:
    """How many queries use each construct, plus ``simple`` (a single phrase)."""
    counts: Counter[str] = Counter()
    for fp in fingerprints:
        node = parse(fp.query)
        counts.update(features(node))
        if isinstance(node, Phrase) and not node.wildcards:
            counts["simple"] += 1
    return dict(sorted(counts.items()))


def parse_num_papers(value: str) -> int:
    """``"21,347"`` -> 21347; raise ``ValueError`` with a reason otherwise."""
    v = value.strip()
    if not v:
        raise ValueError("num_papers is empty; write 0 if unknown")
    if not _NUM_RE.fullmatch(v):
        raise ValueError(
            f"num_papers {value!r} is not a whole number "
            "(thousands separators like 21,347 are fine)"
        )
    return int(v.replace(",", ""))


def read_pps_csv(
    data: str,
    *,
    name: str,
    source: str,
    sha256: str | None = None,
    date: str | None = None,
) -> ImportReport:
    """Parse PPS CSV text (header ``tortured_phrase,expected_phrase,num_papers``)."""
    validate_name(name)
    if data.startswith("\ufeff"):
        data = data[1:]
    reader = csv.reader(io.StringIO(data, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise FormatError(f"{source}: file is empty; expected a PPS CSV header") from None
    except csv.Error as exc:
        raise FormatError(f"{source}: line 1: {exc}") from None
    cols = [h.strip() for h in header]
    missing = [c for c in CSV_COLUMNS if c not in cols]
    if missing:
        raise FormatError(
            f"{source}: header {','.join(cols)!r} lacks {', '.join(missing)}; a PPS export "
            f"starts with {','.join(CSV_COLUMNS)}"
        )
    pos = {c: cols.index(c) for c in CSV_COLUMNS}
    good: list[Fingerprint] = []
    failures: list[ImportFailure] = []
    first_line: dict[str, int] = {}
    rows = 0
    line = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            failures.append(ImportFailure(line, f"malformed CSV: {exc}", ""))
            break
        start, line = line, reader.line_num + 1
        if not row or all(not c.strip() for c in row):
            continue
        rows += 1
        raw = ",".join(row)
        if len(row) != len(cols):
            failures.append(
                ImportFailure(start, f"expected {len(cols)} columns, found {len(row)}", raw)
            )
            continue
        query = row[pos["tortured_phrase"]].strip()
        expected = row[pos["expected_phrase"]].strip()
        try:
            parse(query)
        except FormatError as exc:
            failures.append(ImportFailure(start, f"query does not parse: {exc}", raw))
            continue
        try:
            papers = parse_num_papers(row[pos["num_papers"]])
        except ValueError as exc:
            failures.append(ImportFailure(start, str(exc), raw))
            continue
        if query in first_line:
            failures.append(
                ImportFailure(
                    start, f"duplicate query, first seen on line {first_line[query]}", raw
                )
            )
            continue
        first_line[query] = start
        good.append(Fingerprint(fingerprint_id(query), query, expected, papers, start))
    digest = sha256 or hashlib.sha256(data.encode("utf-8")).hexdigest()
    fset = FingerprintSet(
        name=name,
        source=source,
        date=date or _dt.date.today().isoformat(),
        count=len(good),
        sha256=digest,
        fingerprints=tuple(good),
    )
    return ImportReport(fset, tuple(failures), operator_counts(good), rows)


def import_pps_csv(
    path: str | os.PathLike[str],
    *,
    name: str | None = None,
    source: str | None = None,
    date: str | None = None,
) -> ImportReport:
    """Read a PPS CSV export from ``path``; see :func:`read_pps_csv`."""
    p = Path(path)
    try:
        blob = p.read_bytes()
    except OSError as exc:
        raise FormatError(f"cannot read {p}: {exc.strerror or exc}") from None
    try:
        text = blob.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(
            f"{p} is not UTF-8 (byte {exc.start}); re-export it as UTF-8 CSV"
        ) from None
    set_name = name or re.sub(r"[^A-Za-z0-9_.-]+", "-", p.stem).strip("-.") or "fingerprints"
    return read_pps_csv(
        text,
        name=set_name,
        source=source or str(p),
        sha256=hashlib.sha256(blob).hexdigest(),
        date=date,
    )


def write_pps_csv(fingerprints: Iterable[Fingerprint], out: TextIO) -> int:
    """Write fingerprints in the PPS export format; return the row count."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    n = 0
    for fp in fingerprints:
        writer.writerow([fp.query, fp.expected, f"{fp.num_papers:,}"])
        n += 1
    return n


# ---------------------------------------------------------------- JSON store


def set_from_json(obj: Any, origin: str) -> FingerprintSet:
    """Validate and build a set from its JSON object; ``origin`` names the file."""
    if not isinstance(obj, dict):
        raise FormatError(f"{origin}: expected a JSON object, found {type(obj).__name__}")
    fmt = obj.get("format")
    if fmt != FORMAT:
        raise FormatError(
            f"{origin}: format is {fmt!r}, expected {FORMAT!r}; re-import the CSV with "
            "this version of unspin"
        )
    try:
        items = obj["fingerprints"]
        fps = tuple(
            Fingerprint(
                id=str(it["id"]),
                query=str(it["query"]),
                expected=str(it["expected"]),
                num_papers=int(it["num_papers"]),
                line=int(it.get("line", 0)),
            )
            for it in items
        )
        fset = FingerprintSet(
            name=str(obj["name"]),
            source=str(obj["source"]),
            date=str(obj["date"]),
            count=int(obj["count"]),
            sha256=str(obj["sha256"]),
            fingerprints=fps,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise FormatError(f"{origin}: missing or invalid field: {exc}") from None
    for fp in fps:
        try:
            parse(fp.query)
        except FormatError as exc:
            raise FormatError(f"{origin}: fingerprint {fp.id}: {exc}") from None
    return fset


def save_set(fset: FingerprintSet, directory: str | os.PathLike[str] | None = None) -> Path:
    """Write ``<directory>/<name>.json`` atomically; return its path."""
    d = Path(directory) if directory is not None else fingerprints_dir()
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"{fset.name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(fset.to_json(), ensure_ascii=False, indent=1) + "\n", "utf-8")
    os.replace(tmp, path)
    return path


def load_set(path: str | os.PathLike[str]) -> FingerprintSet:
    p = Path(path)
    try:
        obj = json.loads(p.read_text("utf-8"))
    except OSError as exc:
        raise ResourceError(f"cannot read fingerprint set {p}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormatError(f"{p}: not valid JSON ({exc}); delete it and re-import") from None
    return set_from_json(obj, str(p))


def load_sets(
    directory: str | os.PathLike[str] | None = None, names: Sequence[str] | None = None
) -> list[FingerprintSet]:
    """All stored sets (sorted by name), or only ``names`` (unknown names raise)."""
    d = Path(directory) if directory is not None else fingerprints_dir()
    available = sorted(p.stem for p in d.glob("*.json")) if d.is_dir() else []
    if names is not None:
        unknown = [n for n in names if n not in available]
        if unknown:
            raise ValueError(
                f"no fingerprint set named {', '.join(map(repr, unknown))} in {d}; "
                f"stored sets: {', '.join(available) or '(none)'}"
            )
        available = [n for n in available if n in names]
    return [load_set(d / f"{n}.json") for n in available]


# ---------------------------------------------------------------- channel evidence


_BRACKETED_RE = re.compile(r"\s*(\([^()]*\)|\[[^\[\]]*\])")
_NOTE_MARKERS = ("?", "http", "*", " AND ", "see ")


def clean_expected(expected: str, tortured: str = "") -> list[str]:
    """Turn a PPS ``expected_phrase`` into drop-in replacement phrases.

    * Notes are not phrases: text containing ``?``, a URL, ``*``, ``AND`` or
      ``see`` yields nothing.
    * Parentheticals and bracketed words are dropped ("machine learning (in
      this context)" -> "machine learning"), unless the same bracket appears in
      the tortured phrase (an acronym such as "(PCA)" belongs to both sides).
    * ``/`` separates alternatives. When one side is several words and the
      others single words, the shared words are distributed:
      "fault analysis/diagnosis" -> "fault analysis", "fault diagnosis";
      "fog/mist/cloud computing" -> "fog computing", "mist computing",
      "cloud computing"; otherwise a plain split.

    >>> clean_expected("economic development/profit growth")
    ['economic development', 'profit growth']
    >>> clean_expected("Principal Component Analysis (PCA)", "Partial Component Analysis (PCA)")
    ['Principal Component Analysis (PCA)']
    """
    text = " ".join(expected.split())
    if not text or any(m in text for m in _NOTE_MARKERS):
        return []
    folded_tortured = " ".join(tortured.lower().split())

    def drop(m: re.Match[str]) -> str:
        return m.group(0) if m.group(1).lower() in folded_tortured else ""

    text = " ".join(_BRACKETED_RE.sub(drop, text).split())
    if not text:
        return []
    parts = [" ".join(p.split()) for p in text.split("/")]
    if any(not p for p in parts):
        return []
    if len(parts) > 1:
        sizes = [len(p.split()) for p in parts]
        if sizes[0] > 1 and all(s == 1 for s in sizes[1:]):
            prefix = " ".join(parts[0].split()[:-1])
            parts = [parts[0]] + [f"{prefix} {p}" for p in parts[1:]]
        elif sizes[-1] > 1 and all(s == 1 for s in sizes[:-1]):
            suffix = " ".join(parts[-1].split()[1:])
            parts = [f"{p} {suffix}" for p in parts[:-1]] + [parts[-1]]
    out: list[str] = []
    for p in parts:
        if p not in out:
            out.append(p)
    return out


def channel_pairs(sets: Iterable[FingerprintSet]) -> list[tuple[str, str, str]]:
    """(tortured phrase, expected phrase, set name) for every simple phrase query.

    Only queries that are a single quoted phrase without wildcards qualify:
    ``A AND B`` and ``A NOT B`` carry a document-level condition that a
    phrase-to-phrase channel cannot express, and proximity/wildcard queries
    have no single surface form. The tortured side is the phrase as written in
    the query (inner white space collapsed); the expected side is cleaned by
    :func:`clean_expected`, and may yield several pairs or none.
    """
    out: list[tuple[str, str, str]] = []
    seen: set[tuple[str, str, str]] = set()
    for fset in sets:
        for fp in fset.fingerprints:
            node = parse(fp.query)
            if not isinstance(node, Phrase) or node.wildcards:
                continue
            q = fp.query.strip()
            tortured = " ".join(q[1:-1].split())
            for exp in clean_expected(fp.expected, tortured):
                if exp.lower() == tortured.lower():
                    continue
                key = (tortured, exp, fset.name)
                if key not in seen:
                    seen.add(key)
                    out.append(key)
    return out
