"""Iterate documents ("records") out of every input format a scan accepts.

One reader serves the local scan, the Spark job and the benchmark, so a record
gets the same id and the same text wherever it is read. Formats:

=========================  =====================================================
input                      records
=========================  =====================================================
folder                     every supported file below it (recursive, sorted)
``.txt`` / ``.text``       one record, strict UTF-8 (or BOM-marked UTF-16)
``.html`` / ``.htm``       one record: the main text (trafilatura, offline)
``.pdf``                   one record: the text of every page (pypdf)
``.jsonl`` / ``.ndjson``   one record per non-empty line (``text_field``,
(optionally ``.gz``)       ``id_field``)
WARC / WET (``.warc``,     one record per ``response`` (HTML → main text),
``.wet``, ``.gz`` or not)  ``conversion`` (WET plain text) or text ``resource``
``.lst`` / ``.paths``      a listing: one input path per line (``#`` comments)
=========================  =====================================================

**Bad input never raises out of the iterator.** A binary or undecodable file,
a file or record over :data:`MAX_RECORD_BYTES`, a malformed JSON line, a
truncated WARC, an unreadable PDF: each becomes a :class:`Record` whose
``error`` is a one-line reason and whose ``text`` is ``None``. A scan turns
it into an error row, so nothing is dropped silently.

**Ids are deterministic**: the normalised path for single-record files,
``path:LINE`` (1-based) for JSON lines, ``path@OFFSET`` (byte offset of the
record in the possibly compressed file) for WARC records. Rerunning on the
same files gives the same ids; the ``id_field`` of a JSON line is kept as
``Record.key`` but not trusted for identity (ids in the wild repeat).

Records are numbered per file (``index``) in reading order; a scan splits a
big file into *units* of N consecutive records with :func:`iter_file`'s
``start``/``stop`` and uses :func:`count_records` (the same code path without
text extraction) to plan them.
"""

from __future__ import annotations

import gzip
import io
import json
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from unspin.errors import InputError
from unspin.io.read import decode_bytes

#: Largest record payload read, in bytes: a single-record file (txt, html,
#: pdf), one JSON line, or one WARC record's body. Larger input becomes an
#: error record ("too large") instead of being read into memory.
MAX_RECORD_BYTES = 10_000_000

TEXT_SUFFIXES = (".txt", ".text")
HTML_SUFFIXES = (".html", ".htm", ".xhtml")
PDF_SUFFIXES = (".pdf",)
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")
WARC_SUFFIXES = (".warc", ".warc.gz", ".wet", ".wet.gz", ".arc", ".arc.gz")
LISTING_SUFFIXES = (".lst", ".paths", ".paths.gz")

#: Record types of a WARC file that carry a document.
_WARC_TYPES = ("response", "conversion", "resource")

log = logging.getLogger("unspin")


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a record came from: the file, and for WARC records the record id
    and target URL."""

    path: str
    warc_record_id: str | None = None
    url: str | None = None

    @property
    def label(self) -> str:
        """The URL if there is one, else the path: what a reader recognises."""
        return self.url or self.path


@dataclass(frozen=True, slots=True)
class Record:
    """One document read from an input, or the reason it could not be read."""

    id: str
    origin: Origin
    text: str | None
    error: str | None = None
    #: Position of the record in its file (0-based, reading order).
    index: int = 0
    #: The record's own id field (JSON lines), if any; informational only.
    key: str | None = None


def kind_of(path: str) -> str:
    """The reader for ``path``: text, html, pdf, jsonl, warc or listing."""
    name = path.lower()
    for kind, suffixes in (("jsonl", JSONL_SUFFIXES), ("warc", WARC_SUFFIXES),
                           ("listing", LISTING_SUFFIXES), ("html", HTML_SUFFIXES),
                           ("pdf", PDF_SUFFIXES), ("text", TEXT_SUFFIXES)):
        if name.endswith(suffixes):
            return kind
    return "unknown"


def _norm(path: str) -> str:
    return os.path.normpath(path)


def expand_inputs(inputs: Iterable[str]) -> list[str]:
    """Every file the inputs name, in a deterministic order, duplicates removed.

    Folders are walked recursively for supported files (sorted); listing files
    are expanded line by line (relative lines resolve against the listing's
    folder). A path that does not exist is kept, so the reader reports it as
    an error record instead of the scan forgetting it. A file given directly
    with an unknown suffix is read as text.
    """
    out: list[str] = []
    seen: set[str] = set()

    def add(p: str) -> None:
        p = _norm(p)
        if p not in seen:
            seen.add(p)
            out.append(p)

    def visit(name: str, depth: int) -> None:
        p = Path(name)
        if p.is_dir():
            for f in sorted(x for x in p.rglob("*") if x.is_file()):
                k = kind_of(f.name)
                if k not in ("unknown", "listing"):
                    add(str(f))
        elif kind_of(name) == "listing" and p.is_file() and depth < 3:
            for line in _listing_lines(p):
                target = line if os.path.isabs(line) else str(p.parent / line)
                visit(target, depth + 1)
        else:
            add(name)

    for name in inputs:
        visit(name, 0)
    return out


def _listing_lines(path: Path) -> list[str]:
    try:
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as fh:
            return [s for s in (line.strip() for line in fh) if s and not s.startswith("#")]
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        log.warning("%s: listing not readable (%s)", path, exc)
        return []


def _one_line(exc: BaseException) -> str:
    msg = str(exc).strip().splitlines()
    text = msg[0] if msg else ""
    return f"{type(exc).__name__}: {text}"[:300] if text else type(exc).__name__


def _error(path: str, reason: str, rid: str | None = None, index: int = 0) -> Record:
    return Record(rid or path, Origin(path), None, reason, index)


# --------------------------------------------------------------------------- readers


def _read_capped(path: str) -> bytes:
    size = os.path.getsize(path)
    if size > MAX_RECORD_BYTES:
        raise InputError(f"{size:,} bytes is over the {MAX_RECORD_BYTES:,}-byte record cap")
    with open(path, "rb") as fh:
        return fh.read(MAX_RECORD_BYTES + 1)


def html_to_text(html: str | bytes, url: str | None = None) -> str:
    """Main text of an HTML page (trafilatura, offline), else its plain text.

    Raises InputError when the page has no text at all.
    """
    import trafilatura
    from trafilatura.utils import decode_file

    if isinstance(html, bytes):
        if b"\x00" in html[:8192]:
            raise InputError("looks binary (NUL bytes), not HTML")
        html = str(decode_file(html))  # honours the page's declared/detected charset
    text = trafilatura.extract(html, url=url, include_comments=False, include_tables=True,
                               deduplicate=False, favor_recall=True)
    if not text or not text.strip():
        text = trafilatura.html2txt(html)
    if not text or not text.strip():
        raise InputError("no text found in the HTML")
    return str(text)


def pdf_to_text(data: bytes) -> str:
    """The text of every page of a PDF, pages separated by blank lines.

    Every way a malformed file breaks pypdf becomes an InputError with a reason.
    """
    from pypdf import PdfReader

    if not data.startswith(b"%PDF-"):
        raise InputError("not a PDF (no %PDF- header)")
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise InputError("the PDF is encrypted; export an unencrypted copy")
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"unreadable PDF ({type(exc).__name__})") from None
    text = "\n\n".join(p for p in pages if p)
    if not text:
        raise InputError("the PDF has no extractable text (scanned? run OCR first)")
    return text


def extract_text(data: bytes, kind: str) -> str:
    """Text of one file's bytes by kind (``txt``, ``html``, ``pdf``); InputError if none.

    The one extraction path for the scan, the service's upload and the CLI.
    """
    if kind == "html":
        return html_to_text(data)
    if kind == "pdf":
        return pdf_to_text(data)
    if kind == "txt":
        return decode_bytes(data)
    raise InputError(f"unknown kind {kind!r}; valid: txt, html, pdf")


def _single(path: str, kind: str, extract: bool) -> Iterator[Record]:
    try:
        data = _read_capped(path)
        if not extract:
            yield Record(path, Origin(path), "")
            return
        if kind == "pdf":
            text = pdf_to_text(data)
        elif kind == "html":
            text = html_to_text(data)
        else:
            text = decode_bytes(data, path)
        yield Record(path, Origin(path), text)
    except InputError as exc:
        reason = str(exc)
        if reason.startswith(path + ": "):
            reason = reason[len(path) + 2:]
        yield _error(path, reason)
    except Exception as exc:  # pypdf, lxml, OS: any failure is a reason, not a crash
        yield _error(path, f"cannot read {kind}: {_one_line(exc)}")


def _open_maybe_gz(path: str) -> IO[bytes]:
    fh: IO[bytes] = open(path, "rb")  # noqa: SIM115 - closed by the caller
    if path.lower().endswith(".gz"):
        return gzip.GzipFile(fileobj=fh, mode="rb")  # type: ignore[return-value]
    return fh


def _jsonl(path: str, text_field: str, id_field: str, start: int, stop: int | None,
           extract: bool) -> Iterator[Record]:
    index = -1
    try:
        with _open_maybe_gz(path) as fh:
            for lineno, raw in enumerate(fh, start=1):
                if not raw.strip():
                    continue
                index += 1
                if index < start:
                    continue
                if stop is not None and index >= stop:
                    return
                rid = f"{path}:{lineno}"
                if not extract:
                    yield Record(rid, Origin(path), "", None, index)
                    continue
                yield _json_record(raw, rid, path, index, text_field, id_field)
    except (OSError, EOFError) as exc:
        index += 1
        if index >= start and (stop is None or index < stop):
            yield _error(path, f"JSON lines unreadable after {index} records: "
                               f"{_one_line(exc)}", f"{path}:error", index)


def _json_record(raw: bytes, rid: str, path: str, index: int, text_field: str,
                 id_field: str) -> Record:
    def err(reason: str) -> Record:
        return Record(rid, Origin(path), None, reason, index)

    if len(raw) > MAX_RECORD_BYTES:
        return err(f"line of {len(raw):,} bytes is over the {MAX_RECORD_BYTES:,}-byte "
                   "record cap")
    try:
        obj = json.loads(decode_bytes(raw, "line"))
    except InputError as exc:
        return err(str(exc).removeprefix("line: "))
    except json.JSONDecodeError as exc:
        return err(f"invalid JSON ({exc.msg} at column {exc.colno})")
    if not isinstance(obj, dict):
        return err(f"line is a JSON {type(obj).__name__}, not an object")
    text = obj.get(text_field)
    if not isinstance(text, str):
        return err(f"no string field {text_field!r} (choose the field with --text-field)")
    key = obj.get(id_field)
    url = obj.get("url")
    return Record(rid, Origin(path, None, url if isinstance(url, str) else None), text, None,
                  index, None if key is None else str(key))


def _warc(path: str, start: int, stop: int | None, extract: bool) -> Iterator[Record]:
    from warcio.archiveiterator import ArchiveIterator

    index = -1
    where = 0
    try:
        with open(path, "rb") as fh:
            it = ArchiveIterator(fh, check_digests=False)
            n_seen = 0
            for rec in it:
                n_seen += 1
                if rec.rec_type not in _WARC_TYPES:
                    continue
                ctype = (rec.http_headers.get_header("Content-Type") if rec.http_headers
                         else rec.rec_headers.get_header("Content-Type")) or ""
                if rec.rec_type == "resource" and not ctype.startswith(("text/", "application/x")):
                    continue
                index += 1
                if index < start:
                    continue
                if stop is not None and index >= stop:
                    return
                # Read the body before asking for the offset: warcio's
                # get_record_offset() consumes the record when called first.
                body = rec.content_stream().read(MAX_RECORD_BYTES + 1)
                where = it.get_record_offset()
                rid = f"{path}@{where}"
                origin = Origin(path, rec.rec_headers.get_header("WARC-Record-ID"),
                                rec.rec_headers.get_header("WARC-Target-URI"))
                if not extract:
                    yield Record(rid, origin, "", None, index)
                    continue
                yield _warc_record(body, rid, origin, index, rec.rec_type, ctype)
            # warcio stops quietly at a truncated gzip member: anything left
            # after the last complete record means the file is damaged.
            if n_seen:
                where = it.get_record_offset() + (it.get_record_length() or 0)
                fh.seek(where)
                rest = fh.read(64)
            else:
                fh.seek(0)
                rest = fh.read(64)
            if rest.strip():
                raise ValueError(f"{'no WARC record' if not n_seen else 'unreadable data'} "
                                 f"at byte {where} (truncated or not a WARC file)")
    except Exception as exc:  # warcio raises many types on malformed/truncated input
        index += 1
        if index >= start and (stop is None or index < stop):
            yield Record(f"{path}@error", Origin(path), None,
                         f"malformed WARC after {index} records: {_warc_failure(exc)}", index)


def _warc_failure(exc: BaseException) -> str:
    """Why warcio gave up, in words a user can act on.

    warcio reports a damaged record through whatever its parser tripped on:
    a response record without a WARC-Target-URI surfaces as an AttributeError
    on None. Its own load errors and ours (ValueError) already read well; the
    rest are named as damaged headers, with the library's words kept in
    parentheses for a bug report.
    """
    from warcio.exceptions import ArchiveLoadFailed

    if isinstance(exc, (ValueError, ArchiveLoadFailed)):
        return _one_line(exc)
    return f"a record's headers are damaged or incomplete ({_one_line(exc)})"


def _warc_record(body: bytes, rid: str, origin: Origin, index: int, rec_type: str,
                 ctype: str) -> Record:
    def err(reason: str) -> Record:
        return Record(rid, origin, None, reason, index)

    if len(body) > MAX_RECORD_BYTES:
        return err(f"WARC record over the {MAX_RECORD_BYTES:,}-byte record cap")
    try:
        if rec_type == "response" and ("html" in ctype or body.lstrip()[:1] == b"<"):
            text = html_to_text(body, origin.url)
        elif "pdf" in ctype:
            text = pdf_to_text(body)
        else:
            charset = ctype.partition("charset=")[2].split(";")[0].strip().lower()
            if charset and charset not in ("utf-8", "utf8"):
                try:
                    text = body.decode(charset)
                except (LookupError, UnicodeDecodeError) as exc:
                    return err(f"cannot decode as {charset}: {_one_line(exc)}")
            else:
                text = decode_bytes(body, "record")
        return Record(rid, origin, text, None, index)
    except InputError as exc:
        return err(str(exc).removeprefix("record: "))
    except Exception as exc:
        return err(f"cannot extract text: {_one_line(exc)}")


def iter_file(path: str, text_field: str = "text", id_field: str = "id", *, start: int = 0,
              stop: int | None = None, extract: bool = True) -> Iterator[Record]:
    """Records ``start <= index < stop`` of one file; never raises for bad input.

    ``extract=False`` skips decoding and text extraction (records carry ``""``)
    but yields exactly the same ids: :func:`count_records` uses it.
    """
    path = _norm(path)
    if not os.path.exists(path):
        if start == 0:
            yield _error(path, "no such file")
        return
    if os.path.isdir(path):
        if start == 0:
            yield _error(path, "is a folder: pass it as an input and it is walked")
        return
    kind = kind_of(path)
    if kind == "jsonl":
        yield from _jsonl(path, text_field, id_field, start, stop, extract)
    elif kind == "warc":
        yield from _warc(path, start, stop, extract)
    elif start == 0 and (stop is None or stop > 0):
        yield from _single(path, "text" if kind in ("unknown", "listing") else kind, extract)


def count_records(path: str, text_field: str = "text", id_field: str = "id") -> int:
    """How many records :func:`iter_file` yields for ``path`` (cheap: no extraction)."""
    return sum(1 for _ in iter_file(path, text_field, id_field, extract=False))


def iter_records(inputs: Iterable[str], text_field: str = "text",
                 id_field: str = "id") -> Iterator[Record]:
    """Every record of every input (folders, files, listings), in order."""
    for path in expand_inputs(inputs):
        yield from iter_file(path, text_field, id_field)


def iter_texts(inputs: Iterable[str], text_field: str = "text",
               skipped: list[Record] | None = None) -> Iterator[str]:
    """The text of every readable record (for training an LM or tracing a batch).

    Unreadable records are appended to ``skipped`` so the caller can report
    them; they are never dropped silently.
    """
    for record in iter_records(inputs, text_field):
        if record.text is not None and record.error is None:
            yield record.text
        elif skipped is not None:
            skipped.append(record)


def report_skipped(skipped: list[Record]) -> str | None:
    """One line about unreadable records, or None when there were none."""
    if not skipped:
        return None
    first = skipped[0]
    return (f"skipped {len(skipped)} unreadable record(s); first: {first.origin.label}: "
            f"{first.error}")


def record_to_json(record: Record) -> dict[str, Any]:
    """A JSON-ready view (for debugging and ``--dump``-style tools)."""
    return {"id": record.id, "path": record.origin.path, "url": record.origin.url,
            "warc_record_id": record.origin.warc_record_id, "text": record.text,
            "error": record.error, "index": record.index, "key": record.key}
