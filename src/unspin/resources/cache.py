"""The resource cache: where built tables live and how they are versioned.

Layout (``unspin resources status`` prints it)::

    <cache>/v1/manifest.json     what was built, from which inputs (sha256), when
    <cache>/v1/inverse.marisa    inverse-thesaurus index (memory-mapped trie)
    <cache>/v1/default.arpa      default n-gram model (Norvig web counts)
    <cache>/v1/learned.tsv       merged learned substitution table
    <cache>/v1/morph/            lemminflect's lemma and inflection tables as tries,
                                 written by `unspin resources build` or on first use
    <cache>/v1/neural/           the accurate tier's converted model, written by
                                 `unspin resources build --neural` or on first use

Every file is self-describing through the manifest, which records a
``format`` version; a reader that finds another version refuses with a
message telling the user to rebuild rather than misreading the file.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from unspin.errors import ResourceError

FORMAT_VERSION = 1
MANIFEST = "manifest.json"


def cache_dir(override: str | None = None) -> Path:
    base = override or os.environ.get("UNSPIN_CACHE") or str(Path.home() / ".cache" / "unspin")
    return Path(base) / f"v{FORMAT_VERSION}"


def file_sha256(path: Path, limit: int | None = None) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        read = 0
        while chunk := fh.read(1 << 20):
            h.update(chunk)
            read += len(chunk)
            if limit is not None and read >= limit:
                break
    return h.hexdigest()


def read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST
    if not path.is_file():
        raise ResourceError(
            f"no resources in {directory}: run `unspin resources build` first"
        )
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ResourceError(
            f"corrupt manifest {path} ({exc}); rerun `unspin resources build`"
        ) from None
    if manifest.get("format") != FORMAT_VERSION:
        raise ResourceError(
            f"{path} has format {manifest.get('format')!r}, this unspin reads {FORMAT_VERSION}; "
            "rerun `unspin resources build`"
        )
    return manifest


def write_manifest(directory: Path, manifest: dict[str, Any]) -> None:
    manifest = {"format": FORMAT_VERSION, **manifest}
    tmp = directory / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
    tmp.replace(directory / MANIFEST)
