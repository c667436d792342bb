"""Reading text from files and streams, with one-line reasons for bad input.

Decoding is strict: UTF-8 (with or without BOM) and BOM-marked UTF-16 are
accepted; anything else is refused with the offset of the first bad byte and
a suggestion, because silently guessing an encoding corrupts exactly the
characters (quotes, dashes) that spinners' output is judged by.
"""

from __future__ import annotations

import sys
from pathlib import Path

from unspin.errors import InputError

#: Largest file the single-document commands read (bytes).
MAX_FILE_BYTES = 20_000_000


def decode_bytes(data: bytes, name: str = "input") -> str:
    if data.startswith(b"\xff\xfe") or data.startswith(b"\xfe\xff"):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise InputError(f"{name}: invalid UTF-16 ({exc.reason})") from None
    if b"\x00" in data[:8192]:
        raise InputError(f"{name}: looks binary (NUL bytes), not text; extract its text first")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{name}: not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "convert it first, e.g. iconv -f LATIN1 -t UTF-8"
        ) from None


def _file_bytes(path: str, max_bytes: int) -> bytes:
    """A file's bytes, with one-line reasons for what cannot be read."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{path}: no such file")
    if p.is_dir():
        raise InputError(f"{path}: is a directory (use `unspin scan` for folders)")
    size = p.stat().st_size
    if size > max_bytes:
        raise InputError(f"{path}: {size:,} bytes is over the {max_bytes:,}-byte cap; "
                         "split it or use `unspin scan`")
    try:
        return p.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None


def read_text(path: str | None, max_bytes: int = MAX_FILE_BYTES) -> str:
    """Read ``path`` (or stdin for ``None`` / ``-``) as text."""
    if path is None or path == "-":
        data = sys.stdin.buffer.read(max_bytes + 1)
        name = "stdin"
    else:
        data = _file_bytes(path, max_bytes)
        name = path
    if len(data) > max_bytes:
        raise InputError(f"{name}: over the {max_bytes:,}-byte cap; split it or use `unspin scan`")
    return decode_bytes(data, name)


def extracted_kind(path: str | None) -> str | None:
    """"html" or "pdf" when :func:`read_document` extracts the file's text, else None."""
    from unspin.io.records import kind_of

    if path is None or path == "-":
        return None
    kind = kind_of(path)
    return kind if kind in ("html", "pdf") else None


def read_document(path: str | None, max_bytes: int = MAX_FILE_BYTES) -> str:
    """Like :func:`read_text`, but an .html or .pdf file yields its extracted text.

    A newsroom checks a saved page and an editor a submitted PDF; analysing
    markup or PDF bytes as prose would flag tags or refuse the file. The text
    comes from the same extraction as ``unspin scan`` and the service's upload
    (``unspin.io.records.extract_text``), so span offsets index that text.
    """
    from unspin.io.records import extract_text

    kind = extracted_kind(path)
    if kind is None or path is None:
        return read_text(path, max_bytes)
    data = _file_bytes(path, max_bytes)
    try:
        return extract_text(data, kind)
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None
