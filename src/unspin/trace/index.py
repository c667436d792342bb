"""The trace index: an inverted index of spin-invariant features in SQLite.

Layout of an index directory::

    DIR/shard-000.sqlite  ... DIR/shard-{N-1}.sqlite

Every shard is a self-contained SQLite file with four tables:

``meta``      the format tag (``unspin.trace-index/1``) and the parameters as
              JSON (feature weights, shard count, document-frequency cap,
              match threshold, alignment settings), identical in every shard;
``docs``      one row per source document: external id, title, url, date, the
              zlib-compressed text (needed for the passage alignment) and its
              feature count;
``postings``  ``(feature, doc)`` pairs, clustered by feature (WITHOUT ROWID);
``df``        document frequency per feature, so IDF and the common-feature
              cap cost one indexed lookup per query feature.

A document goes to shard ``blake2b(id) mod N``. A query asks every shard for
its document frequencies (summed: IDF is global), then for the postings of
the features under the cap, and merges the per-shard candidate lists. Shards
can live on different disks or machines; nothing but ``df`` sums crosses them.

Why an inverted index rather than MinHash/LSH bands: spun text shares only
*some* features with its source (every immutable, half the content words),
and which half is random. LSH needs many identical shingles per band; with
30-50 % of words swapped almost no word shingle survives (see the
benchmark, docs/trace.md). An inverted index over single features scored by
kind weight x IDF degrades gracefully with the swap rate instead.

Index-time work (tokenising, feature extraction, compression) runs in a
process pool over all cores; one writer process owns the SQLite files.
Appending is the same operation as building: ids already present are
skipped and counted.
"""

from __future__ import annotations

import hashlib
import html
import json
import multiprocessing as mp
import re
import resource
import sqlite3
import time
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, ClassVar

from unspin.errors import FormatError, InputError
from unspin.trace.features import DEFAULT_WEIGHTS, extract_features

INDEX_FORMAT = "unspin.trace-index/1"

#: Calibrated on held-out clean stories (bench/trace_bench.py, docs/trace.md):
#: the alignment coverage above which the top candidate counts as the source.
DEFAULT_THRESHOLD = 0.55

#: Features per query sent to SQLite (two bound parameters each; SQLite >= 3.32
#: allows 32,766). The rarest are kept when a query has more.
_MAX_QUERY_FEATURES = 8000


@dataclass(frozen=True)
class IndexParams:
    """Everything that shapes an index; stored in it and shown by ``index info``."""

    #: weight of a match per feature kind (times the feature's IDF)
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    #: index content words besides immutables (bigger index, better recall)
    words: bool = True
    #: number of shard files documents are spread over
    shards: int = 1
    #: features in more than this share of documents are ignored at query time
    max_df_ratio: float = 0.05
    #: ... but never below this absolute document count
    max_df_min: int = 50
    #: candidates re-ranked after the postings pass
    candidates: int = 30
    #: alignment coverage a match needs to be reported (calibrated, see docs)
    threshold: float = DEFAULT_THRESHOLD
    #: passage grouping: largest token gap inside one passage
    max_gap: int = 8
    #: longest substitution, in tokens a side
    max_tokens: int = 6

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> IndexParams:
        names = set(cls.__dataclass_fields__)
        unknown = sorted(set(obj) - names)
        if unknown:
            raise FormatError(f"index parameters have unknown fields {unknown}: "
                              "the index was built by a newer unspin")
        return cls(**obj)


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One document to index."""

    id: str
    text: str
    title: str = ""
    url: str = ""
    date: str = ""
    #: why the reader could not read this record ("" when it could)
    error: str = ""


@dataclass(frozen=True)
class BuildReport:
    added: int
    skipped_duplicates: int
    skipped_empty: int
    seconds: float
    processes: int
    docs_total: int
    #: CPU seconds of the writer and the worker processes together
    cpu_seconds: float = 0.0
    #: records the reader could not read (see ``first_error``)
    skipped_errors: int = 0
    first_error: str = ""

    @property
    def docs_per_second_per_core(self) -> float:
        """Documents per CPU-second (writer + workers): robust on a shared machine."""
        return self.added / self.cpu_seconds if self.cpu_seconds > 0 else 0.0


# ------------------------------------------------------------------ reading


class _TextOfHTML(HTMLParser):
    _SKIP: ClassVar[frozenset[str]] = frozenset({"script", "style", "noscript", "head"})
    _BLOCK: ClassVar[frozenset[str]] = frozenset(
        {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "tr", "section", "article"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self._skip = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        if tag in self._SKIP:
            self._skip += 1
        elif tag in self._BLOCK:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag in self._SKIP and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        if not self._skip:
            self.parts.append(data)


def html_to_text(markup: str) -> tuple[str, str]:
    """(title, text) of an HTML page; a minimal extractor for index input."""
    p = _TextOfHTML()
    p.feed(markup)
    p.close()
    raw = "".join(p.parts)
    paras = [" ".join(x.split()) for x in re.split(r"\n\s*\n", raw)]
    return html.unescape(p.title.strip()), "\n\n".join(x for x in paras if x)


def _read_file_text(path: Path) -> str:
    from unspin.io.read import decode_bytes

    return decode_bytes(path.read_bytes(), str(path))


def _jsonl_records(path: Path) -> Iterator[SourceRecord]:
    with path.open("rb") as fh:
        for n, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise FormatError(f"{path}:{n}: invalid JSON ({exc})") from None
            if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
                raise FormatError(f"{path}:{n}: each line needs a string field 'text' "
                                  "(and an 'id'; optional title, url, date)")
            doc_id = str(obj.get("id") or f"{path.name}:{n}")
            yield SourceRecord(doc_id, obj["text"], str(obj.get("title") or ""),
                               str(obj.get("url") or ""), str(obj.get("date") or ""))


def iter_source_records(paths: Iterable[str | Path]) -> Iterator[SourceRecord]:
    """Records from JSONL files, .txt/.html files, and folders of them (recursively).

    JSONL keeps the records' own ``id``, ``title``, ``url`` and ``date``.
    Other formats (WARC/WET, PDF, gzipped JSONL, listings) are read through
    :mod:`unspin.io.records` (ids ``path@offset``, the URL kept); unknown
    suffixes are refused with a reason, files of unknown type inside a folder
    are passed over.
    """
    for name in paths:
        p = Path(name)
        if not p.exists():
            raise InputError(f"{name}: no such file or folder")
        files = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
        for f in files:
            suffix = f.suffix.lower()
            if suffix == ".jsonl":
                yield from _jsonl_records(f)
            elif suffix == ".txt":
                yield SourceRecord(str(f), _read_file_text(f))
            elif suffix in (".html", ".htm"):
                title, text = html_to_text(_read_file_text(f))
                yield SourceRecord(str(f), text, title)
            elif p.is_dir() and not _known_elsewhere(f):
                continue  # folders may hold other files; only known formats count
            else:
                yield from _other_format(f)


def _known_elsewhere(path: Path) -> bool:
    try:
        from unspin.io import records as io_records
    except ImportError:  # pragma: no cover
        return False
    return bool(io_records.kind_of(str(path)) in ("warc", "pdf", "jsonl", "listing"))


def _other_format(path: Path) -> Iterator[SourceRecord]:
    """WARC/WET, PDF, gzipped JSONL and listings, through ``unspin.io.records``.

    Records that reader could not read come back with ``error`` set; the
    build counts them instead of stopping a crawl-sized job.
    """
    try:
        from unspin.io import records as io_records
    except ImportError:  # pragma: no cover - the module ships with unspin
        raise FormatError(
            f"{path}: unsupported input format {path.suffix or '(none)'!r}; index JSONL "
            "(id, text, title, url, date), .txt or .html files, or folders of them"
        ) from None
    kind = io_records.kind_of(str(path))
    if kind not in ("warc", "pdf", "jsonl", "listing"):
        raise FormatError(
            f"{path}: unsupported input format {path.suffix or '(none)'!r}; index JSONL "
            "(id, text, title, url, date), .txt/.html/.pdf files, WARC/WET, or folders of them"
        )
    for rec in io_records.iter_records([str(path)]):
        if rec.text is None:
            yield SourceRecord(rec.id, "", error=rec.error or "unreadable")
        else:
            yield SourceRecord(rec.id, rec.text, url=rec.origin.url or "")


# ------------------------------------------------------------------ writing

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS docs (
    doc INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, title TEXT, url TEXT, date TEXT,
    text BLOB NOT NULL, n_features INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS postings (
    feature INTEGER NOT NULL, doc INTEGER NOT NULL, PRIMARY KEY (feature, doc)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS df (feature INTEGER PRIMARY KEY, n INTEGER NOT NULL);
"""

_Extracted = tuple[SourceRecord, bytes, tuple[int, ...]]


def _extract(job: tuple[SourceRecord, bool]) -> _Extracted | SourceRecord:
    """Features of one record; the record itself when there is nothing to index."""
    rec, words = job
    if rec.error or not rec.text.strip():
        return rec
    feats = extract_features(rec.text, words=words)
    return rec, zlib.compress(rec.text.encode("utf-8"), 6), feats.hashes


def shard_of(doc_id: str, shards: int) -> int:
    return int.from_bytes(hashlib.blake2b(doc_id.encode(), digest_size=4).digest(), "little") \
        % shards


def _shard_path(directory: Path, k: int) -> Path:
    return directory / f"shard-{k:03d}.sqlite"


def _connect(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    return con


def _init_shards(directory: Path, params: IndexParams) -> list[sqlite3.Connection]:
    directory.mkdir(parents=True, exist_ok=True)
    cons = []
    for k in range(params.shards):
        con = _connect(_shard_path(directory, k))
        con.executescript(_SCHEMA)
        con.execute("INSERT OR REPLACE INTO meta VALUES ('format', ?)", (INDEX_FORMAT,))
        con.execute("INSERT OR REPLACE INTO meta VALUES ('params', ?)",
                    (json.dumps(params.to_json(), sort_keys=True),))
        con.execute("INSERT OR REPLACE INTO meta VALUES ('shard', ?)", (str(k),))
        con.commit()
        cons.append(con)
    return cons


def _write_batch(cons: Sequence[sqlite3.Connection], batch: list[_Extracted]) -> tuple[int, int]:
    added = dup = 0
    per_shard: dict[int, list[_Extracted]] = {}
    for item in batch:
        per_shard.setdefault(shard_of(item[0].id, len(cons)), []).append(item)
    for k, items in per_shard.items():
        con = cons[k]
        df: Counter[int] = Counter()
        post: list[tuple[int, int]] = []
        with con:
            for rec, blob, hashes in items:
                cur = con.execute(
                    "INSERT OR IGNORE INTO docs (id, title, url, date, text, n_features) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (rec.id, rec.title, rec.url, rec.date, blob, len(hashes)))
                if cur.rowcount == 0:
                    dup += 1
                    continue
                added += 1
                doc = cur.lastrowid
                assert doc is not None
                post.extend((h, doc) for h in hashes)
                df.update(hashes)
            con.executemany("INSERT OR IGNORE INTO postings VALUES (?, ?)", post)
            con.executemany(
                "INSERT INTO df VALUES (?, ?) ON CONFLICT(feature) DO UPDATE SET n = n + "
                "excluded.n", df.items())
    return added, dup


def read_params(directory: str | Path) -> IndexParams | None:
    """The parameters of an existing index, or None if ``directory`` holds none."""
    path = _shard_path(Path(directory), 0)
    if not path.is_file():
        return None
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = dict(con.execute("SELECT key, value FROM meta").fetchall())
    except sqlite3.DatabaseError as exc:
        raise FormatError(f"{path}: not a trace index ({exc})") from None
    finally:
        con.close()
    if rows.get("format") != INDEX_FORMAT:
        raise FormatError(f"{path}: not a trace index of format {INDEX_FORMAT} "
                          f"(found {rows.get('format')!r}); rebuild it with `unspin index build`")
    return IndexParams.from_json(json.loads(rows["params"]))


def build_index(
    directory: str | Path,
    records: Iterable[SourceRecord],
    params: IndexParams | None = None,
    processes: int | None = None,
    batch_size: int = 1000,
) -> BuildReport:
    """Create or append to the index in ``directory`` from ``records``.

    On append the stored parameters win; passing different ``params`` for an
    existing index raises (mixing feature settings would corrupt scores).
    ``processes`` defaults to all cores; 1 runs in-process.
    """
    out = Path(directory)
    existing = read_params(out)
    if existing is not None and params is not None and params != existing:
        raise InputError(f"{out} was built with other parameters; append without changing "
                         "them, or build a new index in another directory")
    use = existing or params or IndexParams()
    if not 1 <= use.shards <= 4096:
        raise InputError("shards must be between 1 and 4096")
    cons = _init_shards(out, use)
    n_proc = processes or mp.cpu_count()
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    child0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    added = dup = empty = errors = 0
    first_error = ""
    jobs = ((r, use.words) for r in records)
    batch: list[_Extracted] = []
    try:
        if n_proc == 1:
            results: Iterable[_Extracted | SourceRecord] = map(_extract, jobs)
            pool = None
        else:
            pool = mp.get_context("spawn").Pool(n_proc)
            results = pool.imap(_extract, jobs, chunksize=32)
        for item in results:
            if isinstance(item, SourceRecord):
                if item.error:
                    errors += 1
                    first_error = first_error or f"{item.id}: {item.error}"
                else:
                    empty += 1
                continue
            batch.append(item)
            if len(batch) >= batch_size:
                a, d = _write_batch(cons, batch)
                added, dup, batch = added + a, dup + d, []
        if batch:
            a, d = _write_batch(cons, batch)
            added, dup = added + a, dup + d
        if pool is not None:
            pool.close()
            pool.join()
        total = sum(c.execute("SELECT COUNT(*) FROM docs").fetchone()[0] for c in cons)
    finally:
        for c in cons:
            c.close()
    child1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (time.process_time() - cpu0 + child1.ru_utime - child0.ru_utime
           + child1.ru_stime - child0.ru_stime)
    return BuildReport(added, dup, empty, time.perf_counter() - t0, n_proc, total, cpu,
                       errors, first_error)


def index_info(directory: str | Path) -> dict[str, Any]:
    """What ``unspin index info`` prints: parameters, counts and size on disk."""
    d = Path(directory)
    params = read_params(d)
    if params is None:
        raise InputError(f"{d}: no trace index here (build one with `unspin index build`)")
    docs = postings = features = 0
    size = 0
    for k in range(params.shards):
        path = _shard_path(d, k)
        for extra in ("", "-wal", "-shm"):
            f = Path(str(path) + extra)
            if f.is_file():
                size += f.stat().st_size
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            docs += con.execute("SELECT COUNT(*) FROM docs").fetchone()[0]
            postings += con.execute("SELECT COUNT(*) FROM postings").fetchone()[0]
            features += con.execute("SELECT COUNT(*) FROM df").fetchone()[0]
        finally:
            con.close()
    return {"format": INDEX_FORMAT, "path": str(d), "documents": docs, "postings": postings,
            "distinct_features_summed_over_shards": features, "bytes_on_disk": size,
            "params": params.to_json()}


@dataclass(frozen=True, slots=True)
class StoredDoc:
    """A source document as the index holds it."""

    id: str
    text: str
    title: str
    url: str
    date: str


class Index:
    """An open trace index (read-only connections to every shard).

    The stateful object of the trace API: open it once, query it many times
    with :func:`unspin.trace.trace`. Use :meth:`add` (or :func:`build_index`)
    to append documents; an open Index sees them on its next query.
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        params = read_params(self.directory)
        if params is None:
            raise InputError(f"{self.directory}: no trace index here "
                             "(build one with `unspin index build --out DIR INPUT...`)")
        self.params = params
        self._cons = [
            sqlite3.connect(f"file:{_shard_path(self.directory, k)}?mode=ro", uri=True,
                            check_same_thread=False)
            for k in range(params.shards)
        ]

    def close(self) -> None:
        for c in self._cons:
            c.close()
        self._cons = []

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __len__(self) -> int:
        return sum(c.execute("SELECT COUNT(*) FROM docs").fetchone()[0] for c in self._cons)

    def add(self, records: Iterable[SourceRecord], processes: int | None = None) -> BuildReport:
        return build_index(self.directory, records, processes=processes)

    def document_frequencies(self, features: Sequence[int]) -> dict[int, int]:
        """Global document frequency of each feature (summed over shards)."""
        out: dict[int, int] = {}
        for con in self._cons:
            for chunk in _chunks(features, 900):
                q = f"SELECT feature, n FROM df WHERE feature IN ({','.join('?' * len(chunk))})"
                for f, n in con.execute(q, chunk):
                    out[f] = out.get(f, 0) + n
        return out

    def top_documents(self, weights: dict[int, float], limit: int) -> list[tuple[int, int, float]]:
        """``(shard, doc, score)`` of the ``limit`` best documents per shard.

        A document scores the sum of ``weights`` over the features it holds;
        the join and the sum run inside SQLite.
        """
        out: list[tuple[int, int, float]] = []
        if not weights:
            return out
        items = list(weights.items())[:_MAX_QUERY_FEATURES]
        values = ",".join("(?, ?)" for _ in items)
        q = (f"WITH q(feature, w) AS (VALUES {values}) "
             "SELECT p.doc, SUM(q.w) AS s FROM q JOIN postings p ON p.feature = q.feature "
             "GROUP BY p.doc ORDER BY s DESC LIMIT ?")
        params = [x for pair in items for x in pair] + [limit]
        for k, con in enumerate(self._cons):
            out.extend((k, doc, sc) for doc, sc in con.execute(q, params))
        out.sort(key=lambda x: -x[2])
        return out[:limit]

    def feature_counts(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], int]:
        """Number of features of each ``(shard, doc)``."""
        out: dict[tuple[int, int], int] = {}
        by_shard: dict[int, list[int]] = {}
        for k, doc in keys:
            by_shard.setdefault(k, []).append(doc)
        for k, docs in by_shard.items():
            q = f"SELECT doc, n_features FROM docs WHERE doc IN ({','.join('?' * len(docs))})"
            for doc, n in self._cons[k].execute(q, docs):
                out[(k, doc)] = n
        return out

    def document(self, shard: int, doc: int) -> StoredDoc:
        row = self._cons[shard].execute(
            "SELECT id, text, title, url, date FROM docs WHERE doc = ?", (doc,)).fetchone()
        if row is None:
            raise KeyError((shard, doc))
        return StoredDoc(row[0], zlib.decompress(row[1]).decode("utf-8"), row[2] or "",
                         row[3] or "", row[4] or "")


def _chunks(seq: Sequence[int], n: int) -> Iterator[list[int]]:
    for i in range(0, len(seq), n):
        yield list(seq[i : i + n])
