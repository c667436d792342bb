"""The inverse-thesaurus index: spun word or phrase -> originals that list it.

A spinner replaces an original word ``o`` by one of ``o``'s synonyms ``s``.
Reading backwards, the originals that could have produced ``s`` are all
headwords whose synonym lists contain ``s``. The index stores, for every
``s``, each such ``o`` with a bitmask of the thesauri that link them and the
*fan-out* of ``o`` (how many synonyms it has: a spinner choosing among 400
synonyms picks any one of them rarely, which the channel model uses).

Storage is a ``marisa_trie.BytesTrie`` (memory-mapped, shared between worker
processes through the page cache, opens in milliseconds), never a pickle.
Values are ``original \\x1f mask \\x1f fanout`` in UTF-8.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from unspin.resources.thesauri import SOURCE_BITS, load_forward

SEP = "\x1f"


@dataclass(frozen=True, slots=True)
class InverseEntry:
    original: str
    sources: tuple[str, ...]
    fanout: int
    #: True when only a reverse link exists (the original is listed under the
    #: spun word, not the other way round).
    reverse_only: bool = False


# Reverse links use the source's bit shifted left by REVERSE_SHIFT.
REVERSE_SHIFT = 4


def _add(table: dict[str, dict[str, list[int]]], spun: str, orig: str, bit: int, fan: int) -> None:
    slot = table.setdefault(spun, {})
    got = slot.get(orig)
    if got is None:
        slot[orig] = [bit, fan]
        return
    forward_mask = (1 << REVERSE_SHIFT) - 1
    had_forward = bool(got[0] & forward_mask)
    got[0] |= bit
    if bit & forward_mask:
        # A forward link's fan-out wins over any reverse-link estimate.
        got[1] = min(got[1], fan) if had_forward else fan
    elif not had_forward:
        got[1] = min(got[1], fan)


#: Links kept per spun key, best first by :func:`_static_rank`. Common words
#: have hundreds of inverse links; the tail (huge fan-out, reverse-only, one
#: source) never survives the channel model, and keeping it costs every lookup.
MAX_LINKS_PER_KEY = 64


def _static_rank(mask: int, fanout: int) -> float:
    """Channel-model order of a link without its context (see decode/channel.py)."""
    forward = mask & ((1 << REVERSE_SHIFT) - 1)
    both = forward | (mask >> REVERSE_SHIFT)
    n_sources = bin(both).count("1")
    rank = -0.5 * math.log(max(1, fanout)) + 0.5 * (n_sources - 1)
    return rank - (1.0 if forward == 0 else 0.0)


def build_inverse(out_path: Path, sources: Iterable[str] = tuple(SOURCE_BITS)) -> dict[str, int]:
    """Build the trie from the installed thesauri; returns counts per source."""
    import marisa_trie

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
    for spun, originals in table.items():
        ranked = sorted(originals.items(), key=lambda kv: -_static_rank(kv[1][0], kv[1][1]))
        for orig, (mask, fan) in ranked[:MAX_LINKS_PER_KEY]:
            keys.append(spun)
            values.append(f"{orig}{SEP}{mask}{SEP}{fan}".encode())
    trie = marisa_trie.BytesTrie(zip(keys, values, strict=True))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_suffix(".tmp")
    trie.save(str(tmp))
    tmp.replace(out_path)
    counts["keys"] = len(table)
    counts["entries"] = len(keys)
    return counts


_BIT_NAMES = {bit: name for name, bit in SOURCE_BITS.items()}


@lru_cache(maxsize=256)
def _mask_names(mask: int) -> tuple[str, ...]:
    both = mask | (mask >> REVERSE_SHIFT)
    return tuple(name for bit, name in sorted(_BIT_NAMES.items()) if both & bit)


class InverseIndex:
    """Read side of the index, memory-mapped."""

    def __init__(self, path: Path) -> None:
        import marisa_trie

        self.path = path
        self._trie: Any = marisa_trie.BytesTrie()
        self._trie.mmap(str(path))

    def __contains__(self, key: str) -> bool:
        return key in self._trie

    @lru_cache(maxsize=100_000)  # noqa: B019 - one index per process, lives forever
    def lookup(self, spun: str) -> tuple[InverseEntry, ...]:
        if spun not in self._trie:
            return ()
        out = []
        for raw in self._trie[spun]:
            orig, mask, fan = raw.decode().split(SEP)
            m = int(mask)
            forward = m & ((1 << REVERSE_SHIFT) - 1)
            out.append(InverseEntry(orig, _mask_names(m), int(fan), forward == 0))
        return tuple(out)

    def has_prefix(self, prefix: str) -> bool:
        return next(iter(self._trie.iterkeys(prefix)), None) is not None
