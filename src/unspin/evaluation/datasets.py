"""Loaders for the evaluation data in ``../shared/data`` and the fixed split.

The corpora are research-only: they are read in place and never copied into
the repository or the package. Anything derived from them (n-gram models,
learned tables) goes to the bench cache outside the repo
(:func:`bench_cache_dir`).

The split is fixed by hashing the document id (``sha1(id) mod 10``: 0-7
train, 8 dev, 9 test), so it never depends on file order, sampling seeds or
the size of the corpus, and a document never changes sides.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

CORPORA = ("reuters", "bbc")
_FILES = {"reuters": "corpora/reuters21578.jsonl", "bbc": "corpora/bbc2225.jsonl"}
SPLITS = ("train", "dev", "test")


class DataMissingError(FileNotFoundError):
    """The shared evaluation data is not where the harness looks for it."""


@dataclass(frozen=True, slots=True)
class Doc:
    id: str
    title: str
    text: str
    corpus: str

    @property
    def split(self) -> str:
        return split_of(self.id)


@dataclass(frozen=True, slots=True)
class RealPair:
    id: str
    spun_text: str
    original_text: str
    notes: str


def data_dir() -> Path:
    """``$UNSPIN_DATA_DIR`` or ``../shared/data`` next to the repository."""
    env = os.environ.get("UNSPIN_DATA_DIR")
    path = Path(env) if env else Path(__file__).resolve().parents[3].parent / "shared" / "data"
    if not (path / "corpora").is_dir():
        raise DataMissingError(
            f"evaluation data not found at {path}: check out ../shared/data next to the repo "
            "or set UNSPIN_DATA_DIR to its location"
        )
    return path


def bench_cache_dir() -> Path:
    """Where derived benchmark artefacts go: ``$UNSPIN_BENCH_CACHE`` or ``~/.cache/unspin/bench``.

    Deliberately outside the repository: models built from research-only
    corpora must never end up in a commit or a wheel.
    """
    env = os.environ.get("UNSPIN_BENCH_CACHE")
    path = Path(env) if env else Path.home() / ".cache" / "unspin" / "bench"
    path.mkdir(parents=True, exist_ok=True)
    return path


def split_of(doc_id: str) -> str:
    """The fixed split of a document id.

    >>> split_of("reuters-1"), split_of("bbc-business-001")
    ('test', 'dev')
    """
    bucket = int(hashlib.sha1(doc_id.encode("utf-8")).hexdigest(), 16) % 10
    return "train" if bucket <= 7 else ("dev" if bucket == 8 else "test")




def unwrap_reuters(text: str) -> str:
    r"""Undo Reuters' hard wrapping: ``"\n    "`` starts a paragraph, ``"\n"`` is a wrap.

    >>> unwrap_reuters("Showers continued in\nthe zone.\n    The dry period.\n Reuter\n&#3;")
    'Showers continued in the zone.\n\nThe dry period.'
    """
    text = html.unescape(text.replace("&#3;", "")).rstrip()
    for trailer in ("Reuter", "REUTER"):
        if text.endswith(trailer):
            text = text[: -len(trailer)].rstrip()
    paragraphs = re.split(r"\n[ \t]+", text)
    out = []
    for para in paragraphs:
        joined = " ".join(line.strip() for line in para.split("\n") if line.strip())
        joined = re.sub(r"[ \t]{2,}", " ", joined)
        if joined:
            out.append(joined)
    return "\n\n".join(out)


def _read_jsonl(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def load_corpus(name: str, split: str | None = None) -> list[Doc]:
    """All documents of one corpus (optionally one split), in file order."""
    if name not in _FILES:
        raise ValueError(f"unknown corpus {name!r}; valid: {', '.join(CORPORA)}")
    if split is not None and split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; valid: {', '.join(SPLITS)}")
    path = data_dir() / _FILES[name]
    if not path.is_file():
        raise DataMissingError(f"{path} is missing; the shared data checkout is incomplete")
    docs = []
    for rec in _read_jsonl(path):
        text = rec["text"]
        if name == "reuters":
            text = unwrap_reuters(text)
        doc = Doc(rec["id"], rec.get("title", ""), text.strip(), name)
        if doc.text and (split is None or doc.split == split):
            docs.append(doc)
    return docs


def load_split(split: str, corpora: Iterable[str] = CORPORA) -> list[Doc]:
    """One split of several corpora, concatenated in a fixed order."""
    out: list[Doc] = []
    for name in corpora:
        out.extend(load_corpus(name, split))
    return out


def dataset_hash(docs: Iterable[Doc | RealPair | tuple[str, str]]) -> str:
    """A content hash of a document set (ids and texts, in order), for pinning slices."""
    h = hashlib.sha256()
    for d in docs:
        parts: tuple[str, ...]
        if isinstance(d, Doc):
            parts = (d.id, d.text)
        elif isinstance(d, RealPair):
            parts = (d.id, d.spun_text, d.original_text)
        else:
            parts = d
        for part in parts:
            h.update(part.encode("utf-8"))
            h.update(b"\x00")
        h.update(b"\x01")
    return h.hexdigest()[:16]


def load_real_pairs() -> list[RealPair]:
    """The real spun/original news pairs in ``dev/real_pairs``, sorted by id."""
    folder = data_dir() / "dev" / "real_pairs"
    files = sorted(folder.glob("*.json"))
    if not files:
        raise DataMissingError(f"no real pairs in {folder}")
    pairs = []
    for f in files:
        rec = json.loads(f.read_text(encoding="utf-8"))
        pairs.append(
            RealPair(str(rec["id"]), rec["spun_text"], rec["original_text"], rec.get("notes", ""))
        )
    return pairs


def fingerprints_csv() -> Path:
    path = data_dir() / "dev" / "pps_fingerprints_dev.csv"
    if not path.is_file():
        raise DataMissingError(f"{path} is missing; the shared data checkout is incomplete")
    return path
