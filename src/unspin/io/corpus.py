"""Iterate the texts of a training corpus (for ``unspin lm build``).

Accepts text files, JSONL files (one object per line, ``text_field``), and
folders (recursively: ``*.txt``, ``*.jsonl``). Bad lines are reported with
their line number instead of being skipped silently.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from unspin.errors import FormatError, InputError
from unspin.io.read import decode_bytes


def _jsonl(path: Path, text_field: str) -> Iterator[str]:
    with path.open("rb") as fh:
        for n, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(decode_bytes(raw, f"{path}:{n}"))
            except json.JSONDecodeError as exc:
                raise FormatError(f"{path}:{n}: invalid JSON ({exc.msg})") from None
            if not isinstance(obj, dict) or not isinstance(obj.get(text_field), str):
                raise FormatError(f"{path}:{n}: no string field {text_field!r} "
                                  "(choose the field with --text-field)")
            yield obj[text_field]


def iter_corpus_texts(paths: Iterable[str], text_field: str = "text") -> Iterator[str]:
    for name in paths:
        p = Path(name)
        if not p.exists():
            raise InputError(f"{name}: no such file or folder")
        files = sorted(f for f in p.rglob("*") if f.suffix in {".txt", ".jsonl"}) if p.is_dir() \
            else [p]
        for f in files:
            if f.suffix == ".jsonl":
                yield from _jsonl(f, text_field)
            else:
                yield decode_bytes(f.read_bytes(), str(f))
