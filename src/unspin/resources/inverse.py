"""The inverse-thesaurus index: spun word or phrase -> originals that list it.

A spinner replaces an original word ``o`` by one of ``o``'s synonyms ``s``.
Reading backwards, the originals that could have produced ``s`` are all
headwords whose synonym lists contain ``s``. The index stores, for every
``s``, each such ``o`` with a bitmask of the thesauri that link them and the
*fan-out* of ``o`` (how many synonyms it has: a spinner choosing among 400
synonyms picks any one of them rarely, which the channel model uses).

Storage is a ``marisa_trie.BytesTrie`` (memory-mapped, shared between worker
processes through the page cache, opens in milliseconds), never a pickle.
Each key has one value, its links joined by ``\\x1e`` (``LINK_SEP``): one trie
fetch per lookup instead of one per link (layout 3). A link is ``original
\\x1f mask \\x1f fanout \\x1f prior`` in UTF-8, where ``prior`` is the
original's natural-log web unigram probability (Norvig's counts from
``wordsegment``; a phrase sums its words). The prior is the noisy channel's
P(original) before context: "place" is listed under 90 headwords, and the one
a news spinner most likely started from is the frequent "time", not the rare
"locus". Links are ranked by channel plus prior when the index is built and
again when candidates are chosen.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from unspin.resources.thesauri import SOURCE_BITS, load_forward

SEP = "\x1f"
_SEP_BYTES = SEP.encode()
#: Between the links of one key's value (see the module docstring).
LINK_SEP = "\x1e"
_LINK_SEP_BYTES = LINK_SEP.encode()
#: Prior of a word missing from the web unigram list (rarer than its rarest word).
PRIOR_FLOOR = -22.0
#: Bumped when the value layout or the ranking changes; ``ensure_built`` rebuilds.
LAYOUT = 3


class InverseEntry(NamedTuple):
    """One link. A named tuple, not a frozen dataclass: a first lookup builds up to
    ``MAX_LINKS_PER_KEY`` of them, and a tuple is built several times faster."""

    original: str
    sources: tuple[str, ...]
    fanout: int
    #: True when only a reverse link exists (the original is listed under the
    #: spun word, not the other way round).
    reverse_only: bool = False
    #: Natural-log unigram probability of the original (see module docstring).
    prior: float = PRIOR_FLOOR


# Reverse links use the source's bit shifted left by REVERSE_SHIFT.
REVERSE_SHIFT = 4
#: The bits of a mask that mark forward links (the spinner picked from the headword's list).
FORWARD_BITS = (1 << REVERSE_SHIFT) - 1


def _add(table: dict[str, dict[str, list[int]]], spun: str, orig: str, bit: int, fan: int) -> None:
    slot = table.setdefault(spun, {})
    got = slot.get(orig)
    if got is None:
        slot[orig] = [bit, fan]
        return
    had_forward = bool(got[0] & FORWARD_BITS)
    got[0] |= bit
    if bit & FORWARD_BITS:
        # A forward link's fan-out wins over any reverse-link estimate.
        got[1] = min(got[1], fan) if had_forward else fan
    elif not had_forward:
        got[1] = min(got[1], fan)


#: Links kept per spun key, best first by :func:`static_rank`. Common words
#: have hundreds of inverse links; the tail (rare originals with a huge
#: fan-out, reverse-only, one source) never survives the noisy channel, and
#: keeping it costs every lookup.
MAX_LINKS_PER_KEY = 160


def static_rank(mask: int, fanout: int, prior: float) -> float:
    """Noisy-channel order of a link without its context: channel plus prior.

    The channel part mirrors decode/channel.py's defaults; the prior is
    weighted like the generator's ``PRIOR_WEIGHT`` (candidates/generate.py).
    A key's links are stored in descending order of this rank, which lets the
    generator stop reading them early (``CandidateGenerator._rank_links``).
    """
    forward = mask & FORWARD_BITS
    both = forward | (mask >> REVERSE_SHIFT)
    n_sources = bin(both).count("1")
    rank = -0.5 * math.log(max(1, fanout)) + 0.5 * (n_sources - 1) + 0.5 * prior
    return rank - (1.0 if forward == 0 else 0.0)


def web_unigram_logprob() -> dict[str, float]:
    """Natural-log unigram probabilities from ``wordsegment``'s web counts."""
    from unspin.lm.ngram import web_unigram_counts

    counts = web_unigram_counts()
    log_total = math.log(sum(counts.values()))
    return {w: math.log(c) - log_total for w, c in counts.items()}


def phrase_prior(phrase: str, unigram: dict[str, float]) -> float:
    """A phrase's prior: the sum of its words' (an independence floor)."""
    total = 0.0
    for w in phrase.replace("-", " ").split():
        total += unigram.get(w.strip(".'\""), PRIOR_FLOOR)
    return max(total, 3 * PRIOR_FLOOR)


def build_inverse(out_path: Path, sources: Iterable[str] = tuple(SOURCE_BITS)) -> dict[str, int]:
    """Build the trie from the installed thesauri; returns counts per source."""
    import marisa_trie

    unigram = web_unigram_logprob()
    priors: dict[str, float] = {}

    def prior_of(orig: str) -> float:
        got = priors.get(orig)
        if got is None:
            got = priors[orig] = round(phrase_prior(orig, unigram), 2)
        return got

    table: dict[str, dict[str, list[int]]] = {}
    counts: dict[str, int] = {}
    for name in sources:
        bit = SOURCE_BITS[name]
        forward = load_forward(name)
        links = 0
        for head, syns in forward.items():
            fan = len(syns)
            for s in syns:
                # Forward link: the spinner picked s from head's list.
                _add(table, s, head, bit, fan)
                # Reverse link: thesauri are not symmetric, but a spinner whose
                # list has head under s is as plausible; marked so the channel
                # can weigh it apart.
                _add(table, head, s, bit << REVERSE_SHIFT, len(forward.get(s, ())) or fan)
                links += 1
        counts[name] = links
    keys: list[str] = []
    values: list[bytes] = []
    entries = 0
    for spun, originals in table.items():
        ranked = sorted(originals.items(),
                        key=lambda kv: -static_rank(kv[1][0], kv[1][1], prior_of(kv[0])))
        kept = [f"{orig}{SEP}{mask}{SEP}{fan}{SEP}{prior_of(orig)}"
                for orig, (mask, fan) in ranked[:MAX_LINKS_PER_KEY]]
        keys.append(spun)
        values.append(LINK_SEP.join(kept).encode())
        entries += len(kept)
    trie = marisa_trie.BytesTrie(zip(keys, values, strict=True))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_suffix(".tmp")
    trie.save(str(tmp))
    tmp.replace(out_path)
    counts["keys"] = len(table)
    counts["entries"] = entries
    return counts


_BIT_NAMES = {bit: name for name, bit in SOURCE_BITS.items()}


@lru_cache(maxsize=256)
def _mask_names(mask: int) -> tuple[str, ...]:
    both = mask | (mask >> REVERSE_SHIFT)
    return tuple(name for bit, name in sorted(_BIT_NAMES.items()) if both & bit)


@lru_cache(maxsize=4096)
def mask_fields(mask: str) -> tuple[tuple[str, ...], bool]:
    """Sources and reverse-only flag of a stored mask (a few dozen distinct values)."""
    m = int(mask)
    return _mask_names(m), m & FORWARD_BITS == 0


def parse_link(link: str) -> InverseEntry:
    """The entry of one stored link (an item of :meth:`InverseIndex.links`)."""
    orig, mask, fan, prior = link.split(SEP)
    names, reverse_only = mask_fields(mask)
    return InverseEntry(orig, names, int(fan), reverse_only, float(prior))


class InverseIndex:
    """Read side of the index, memory-mapped."""

    def __init__(self, path: Path) -> None:
        import marisa_trie

        self.path = path
        self._trie: Any = marisa_trie.BytesTrie()
        self._trie.mmap(str(path))

    def __contains__(self, key: str) -> bool:
        return key in self._trie

    def lookup(self, spun: str) -> tuple[InverseEntry, ...]:
        """Every link of ``spun`` as an entry, in index order. Not memoised: the
        analyses read links through :meth:`links` and decode only those they
        keep; this whole view is for inspection and tests."""
        return tuple(parse_link(link) for link in self.links(spun))

    def links(self, spun: str) -> list[str]:
        """The stored links of ``spun``, undecoded (``original SEP mask SEP fanout SEP
        prior``), in index order.

        Candidate generation scores links, in this order, until no later one
        can make its best few, and keeps those; building an entry for each of
        up to 160 links was a third of a cold screen-mode run, so it parses the
        fields it scores and builds entries (:func:`parse_link`) only for the
        links it keeps.
        """
        got = self._trie.get(spun)
        if not got:
            return []
        value: bytes = got[0]
        return value.decode().split(LINK_SEP)

    def count(self, spun: str) -> int:
        """How many originals are linked to ``spun`` (its fan-in), without decoding them."""
        got = self._trie.get(spun)
        return got[0].count(_LINK_SEP_BYTES) + 1 if got else 0

    @lru_cache(maxsize=100_000)  # noqa: B019 - one index per process, lives forever
    def originals(self, spun: str) -> frozenset[bytes]:
        """The originals linked to ``spun``, UTF-8 encoded, without building entries.

        The relatedness test of LM proposals (candidates/generate.py) only
        compares these sets, for the spun word and every word proposed in its
        gap; building a full entry per link was nearly half of a cold full-mode
        run, and decoding each word another fifth of what remained.
        """
        got = self._trie.get(spun)
        if not got:
            return frozenset()
        sep = _SEP_BYTES
        return frozenset(link.partition(sep)[0] for link in got[0].split(_LINK_SEP_BYTES))

    def has_prefix(self, prefix: str) -> bool:
        return next(iter(self._trie.iterkeys(prefix)), None) is not None
