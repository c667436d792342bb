"""Language-model proposals: words that fit the gap where a spun word stands.

Thesauri only know the links their editors wrote; real spinners use their own
tables ("number" -> "assortment", "figure" -> "establish"), and no list has
seen tomorrow's. For a surprising single word, this source asks the n-gram
model which words fit between its neighbours: the successors of the left word
and the predecessors of the right word, read from the model's own bigram
table, ranked by log P(c | left) + log P(right | c). A proposal must share a
part-of-speech tag with the spun word (inflection included, via lemminflect),
so "assortment" (NN) draws nouns only.

The channel gives these proposals one fitted constant
(:meth:`unspin.decode.channel.ChannelModel.lm_fill`): a substitution whose
original no thesaurus links is rare, and any one fill is one of several. The
language model then judges them in context like every other candidate, and
the span model sees that the candidate came only from the LM.

The index is built from the ARPA file of whatever n-gram model is loaded (the
shipped default, or one from ``unspin lm build``), once per model, into a
memory-mapped trie in the cache directory. A kenlm binary model has no
readable bigram table; its documents simply get no LM proposals (logged once).
"""

from __future__ import annotations

import hashlib
import heapq
import logging
import math
from functools import lru_cache
from pathlib import Path
from typing import Any

from unspin.text import morph

log = logging.getLogger("unspin")

#: Neighbours kept per word and direction in the index. 100 and 16 fills per
#: gap against 40 and 8: on 40 DEV stories per profile, span F1 and exact
#: restoration moved within noise (+0.00 to +0.01), for about 10 % more
#: full-mode time.
KEEP_PER_WORD = 100
#: Proposals returned per gap, before the thesaurus-relatedness filter, which
#: drops most of them.
FILL_K = 16
#: Only content words are filled: spinners swap nouns, verbs, adjectives and
#: adverbs; filling function words would only add noise.
CONTENT_TAGS = ("NN", "VB", "JJ", "RB")
LOG10 = math.log(10.0)
_SEP = "\x1f"
_LINK_SEP = "\x1e"


@lru_cache(maxsize=200_000)
def content_tags(word: str) -> frozenset[str]:
    return frozenset(t for t in morph.word_tags(word) if t.startswith(CONTENT_TAGS))


def _index_path(arpa: Path, cache: Path) -> Path:
    st = arpa.stat()
    key = hashlib.sha1(f"{arpa.resolve()}:{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()
    return cache / "fill" / f"{key[:16]}-k{KEEP_PER_WORD}-joint-packed.marisa"


def _is_word(w: str) -> bool:
    return w.isalpha() and w.islower()


def build_fill_index(arpa: Path, out: Path) -> int:
    """Read the ARPA bigram section into successor/predecessor lists.

    Each list stores log P(right | left), the term the fill score uses, but
    the two lists keep different words. Successors of ``v`` are the words
    most likely after it, by that same conditional. Predecessors of ``w`` are
    the words most often *seen* before it, by the joint log P(v) + log P(w | v):
    ranked by the conditional alone, the words before "of" are rarities that
    are always followed by it ("regardless", "consisting"), and the common
    originals a spinner replaced ("number of", "part of") never make the list.

    One trie value per word and direction (key ``s\\x1fword`` or ``p\\x1fword``),
    its neighbours joined by ``\\x1e``, each ``neighbour \\x1f log-prob``.
    Returns the number of neighbour links stored.
    """
    import marisa_trie

    unigram: dict[str, float] = {}
    succ: dict[str, list[tuple[float, float, str]]] = {}
    pred: dict[str, list[tuple[float, float, str]]] = {}

    def push(table: dict[str, list[tuple[float, float, str]]], key: str, rank: float,
             lp: float, w: str) -> None:
        heap = table.setdefault(key, [])
        if len(heap) < KEEP_PER_WORD:
            heapq.heappush(heap, (rank, lp, w))
        elif rank > heap[0][0]:
            heapq.heapreplace(heap, (rank, lp, w))

    section = ""
    with arpa.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if line.startswith("\\"):
                section = line.strip()
                if section == "\\3-grams:" or section == "\\end\\":
                    break
                continue
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 2:
                continue
            if section == "\\1-grams:":
                if _is_word(parts[1]):
                    unigram[parts[1]] = float(parts[0]) * LOG10
                continue
            if section != "\\2-grams:":
                continue
            words = parts[1].split(" ")
            if len(words) != 2:
                continue
            v, w = words
            lp = float(parts[0]) * LOG10
            if _is_word(w):
                push(succ, v, lp, lp, w)
            if _is_word(v):
                push(pred, w, unigram.get(v, -99.0) + lp, lp, v)
    # one value per word and direction, its neighbours joined: one fetch
    # per lookup instead of one per neighbour (see resources/inverse.py)
    keys: list[str] = []
    values: list[bytes] = []
    n = 0
    for prefix, table in (("s", succ), ("p", pred)):
        for key, heap in table.items():
            keys.append(f"{prefix}{_SEP}{key}")
            values.append(_LINK_SEP.join(f"{w}{_SEP}{lp:.3f}" for _, lp, w in heap).encode())
            n += len(heap)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    marisa_trie.BytesTrie(zip(keys, values, strict=True)).save(str(tmp))
    tmp.replace(out)
    return n


class FillIndex:
    """Successors and predecessors of words, by bigram log-probability."""

    def __init__(self, path: Path) -> None:
        import marisa_trie

        self._trie: Any = marisa_trie.BytesTrie()
        self._trie.mmap(str(path))

    def _neighbours(self, prefix: str, word: str) -> dict[str, float]:
        got = self._trie.get(f"{prefix}{_SEP}{word}")
        out: dict[str, float] = {}
        if got:
            for pair in got[0].decode().split(_LINK_SEP):
                w, lp = pair.split(_SEP)
                out[w] = float(lp)
        return out

    @lru_cache(maxsize=100_000)  # noqa: B019 - one index per process, lives forever
    def successors(self, word: str) -> dict[str, float]:
        """The words kept as most likely after ``word``, with log P(next | word).

        The returned dict is shared by every caller: read it, do not change it.
        """
        return self._neighbours("s", word)

    @lru_cache(maxsize=100_000)  # noqa: B019 - one index per process, lives forever
    def fill(self, left: str, spun: str, right: str) -> tuple[tuple[str, float], ...]:
        """Up to FILL_K (word, table score) pairs for the gap ``left _ right``."""
        tags = content_tags(spun)
        if not tags:
            return ()
        after = self.successors(left)
        before = self._neighbours("p", right)
        floor_a = min(after.values(), default=-12.0) - 1.0
        floor_b = min(before.values(), default=-12.0) - 1.0
        scored: list[tuple[float, str]] = []
        for w in sorted(after.keys() | before.keys()):
            if w == spun or len(w) < 3 or not (tags & content_tags(w)):
                continue
            scored.append((after.get(w, floor_a) + before.get(w, floor_b), w))
        scored.sort(key=lambda t: (-t[0], t[1]))  # ties by word: same output in every process
        return tuple((w, s) for s, w in scored[:FILL_K])


@lru_cache(maxsize=4)
def load_fill_index(arpa_path: str, cache_dir: str) -> FillIndex | None:
    """The fill index of one ARPA model, built on first use (None for binaries)."""
    arpa = Path(arpa_path)
    try:
        with arpa.open("rb") as fh:
            head = fh.read(64)
    except OSError:
        return None
    if not head.lstrip().startswith(b"\\data\\"):
        log.warning("no LM proposals: %s is not an ARPA file (kenlm binaries have no "
                    "readable bigram table)", arpa)
        return None
    out = _index_path(arpa, Path(cache_dir))
    if not out.is_file():
        log.info("building the LM proposal index for %s", arpa.name)
        build_fill_index(arpa, out)
    return FillIndex(out)
