"""Match many fingerprint queries against many documents, fast.

Design: one Aho-Corasick automaton (``pyahocorasick``) holds an *anchor key*
for every query; a document is scanned once, and only the queries whose
anchor occurs are evaluated with the full grammar. Most documents contain no
anchor at all, so they cost one lower-casing, one white-space removal and one
automaton pass, and are never tokenised.

Anchors come from the query's first positive clause
(:func:`~unspin.fingerprints.grammar.positive_phrases`; every child of an
``OR``): for a phrase, its words concatenated without separators (the longest
literal run between wildcards); for a proximity clause, its longest word.
The automaton runs over :func:`~unspin.fingerprints.document.gate_string`
(the document lower-cased without white space or hyphens), the same
representation, so hyphenation, line breaks and spacing can never hide a
match from the gate. The gate is allowed false positives ("brainorganization"
can straddle unrelated words); the grammar evaluation removes them.

A query with no usable anchor (only possible for hand-written queries whose
positive clauses are all wildcards around very short literals) is evaluated on
every document; :attr:`FingerprintMatcher.unanchored` counts them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import ahocorasick

from unspin.errors import InputError
from unspin.fingerprints.document import DocumentIndex, gate_string
from unspin.fingerprints.grammar import Node, Phrase, Proximity, Term, evaluate, parse
from unspin.fingerprints.grammar import positive_phrases as _positive
from unspin.fingerprints.store import FingerprintSet

MIN_ANCHOR_CHARS = 2
MAX_DOCUMENT_CHARS = 50_000_000


@dataclass(frozen=True, slots=True)
class FingerprintHit:
    """One occurrence of a listed fingerprint in a document.

    ``start``/``end`` are offsets into the exact input (``text`` is that
    slice); ``clause`` is the canonical text of the clause that matched.
    """

    fingerprint_id: str
    list_name: str
    query: str
    expected: str
    start: int
    end: int
    text: str
    clause: str

    def to_json(self) -> dict[str, Any]:
        return {
            "fingerprint_id": self.fingerprint_id,
            "list_name": self.list_name,
            "query": self.query,
            "expected": self.expected,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "clause": self.clause,
        }


@dataclass(frozen=True, slots=True)
class _Entry:
    fingerprint_id: str
    list_name: str
    query: str
    expected: str
    node: Node


def _longest_literal(word: str) -> str:
    return max(word.split("*"), key=len)


def _leaf_keys(leaf: Phrase | Term | Proximity) -> tuple[str, ...]:
    """Gate keys that must all occur when ``leaf`` matches (empty: no usable key)."""
    if isinstance(leaf, Proximity):
        keys = {_longest_literal(w) for w in leaf.words}
        return tuple(sorted(k for k in keys if len(k) >= MIN_ANCHOR_CHARS))
    key = _longest_literal("".join(leaf.words))
    return (key,) if len(key) >= MIN_ANCHOR_CHARS else ()


def anchor_keys(node: Node) -> tuple[tuple[str, ...], ...]:
    """Gate alternatives for a query: any match contains every key of one of them.

    One alternative per leaf of the first positive clause (several under
    ``OR``). A phrase contributes its words concatenated (longest literal run
    between wildcards); a proximity clause requires all its words. Empty if
    some leaf has no literal of ``MIN_ANCHOR_CHARS`` characters.
    """
    alternatives: list[tuple[str, ...]] = []
    for leaf in _positive(node):
        keys = _leaf_keys(leaf)
        if not keys:
            return ()
        if keys not in alternatives:
            alternatives.append(keys)
    return tuple(alternatives)


class FingerprintMatcher:
    """A compiled matcher over one or more fingerprint sets.

    >>> from unspin.fingerprints.store import FingerprintSet, Fingerprint
    >>> fs = FingerprintSet("demo", "doctest", "2024-01-01", 1, "-",
    ...     (Fingerprint("x", '"counterfeit consciousness"', "artificial intelligence", 1),))
    >>> [h.text for h in FingerprintMatcher([fs]).scan("Counterfeit consciousness is here.")]
    ['Counterfeit consciousness']
    """

    def __init__(self, sets: Sequence[FingerprintSet]) -> None:
        names = [s.name for s in sets]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"fingerprint set names must be unique; repeated: {', '.join(dupes)}")
        self.sets = tuple(sets)
        self._entries: list[_Entry] = []
        self._alternatives: list[tuple[tuple[str, ...], ...]] = []
        self._unanchored: list[int] = []
        by_key: dict[str, list[int]] = {}
        for fset in sets:
            for fp in fset.fingerprints:
                node = parse(fp.query)
                idx = len(self._entries)
                self._entries.append(_Entry(fp.id, fset.name, fp.query, fp.expected, node))
                alternatives = anchor_keys(node)
                self._alternatives.append(alternatives)
                if not alternatives:
                    self._unanchored.append(idx)
                for key in {k for alt in alternatives for k in alt}:
                    by_key.setdefault(key, []).append(idx)
        self._automaton: Any = None
        if by_key:
            automaton = ahocorasick.Automaton()
            for key, idxs in by_key.items():
                automaton.add_word(key, (key, tuple(idxs)))
            automaton.make_automaton()
            self._automaton = automaton
        self.anchors = len(by_key)

    @property
    def size(self) -> int:
        """Number of queries (over all sets)."""
        return len(self._entries)

    @property
    def unanchored(self) -> int:
        return len(self._unanchored)

    def candidates(self, text: str) -> list[int]:
        """Indices of queries whose anchor occurs in ``text`` (the cheap gate)."""
        found: set[int] = set(self._unanchored)
        if self._automaton is None:
            return sorted(found)
        keys: set[str] = set()
        linked: set[int] = set()
        for _end, (key, idxs) in self._automaton.iter(gate_string(text)):
            if key not in keys:
                keys.add(key)
                linked.update(idxs)
        for idx in linked:
            if any(keys.issuperset(alt) for alt in self._alternatives[idx]):
                found.add(idx)
        return sorted(found)

    def scan(self, text: str) -> list[FingerprintHit]:
        """Every fingerprint hit in ``text``, ordered by position then set."""
        if not isinstance(text, str):
            raise InputError(
                f"scan() needs str, not {type(text).__name__}; decode bytes first "
                "(e.g. data.decode('utf-8'))"
            )
        if len(text) > MAX_DOCUMENT_CHARS:
            raise InputError(
                f"document has {len(text):,} characters, above the {MAX_DOCUMENT_CHARS:,} cap; "
                "split it into smaller documents"
            )
        cands = self.candidates(text)
        if not cands:
            return []
        doc = DocumentIndex(text)
        hits: list[FingerprintHit] = []
        for idx in cands:
            e = self._entries[idx]
            for m in evaluate(e.node, doc):
                hits.append(
                    FingerprintHit(
                        e.fingerprint_id,
                        e.list_name,
                        e.query,
                        e.expected,
                        m.start,
                        m.end,
                        text[m.start : m.end],
                        m.clause,
                    )
                )
        hits.sort(key=lambda h: (h.start, h.end, h.list_name, h.fingerprint_id))
        return hits

    def scan_many(self, texts: Iterable[str]) -> Iterator[list[FingerprintHit]]:
        """Bulk form of :meth:`scan`: one hit list per input text, in order."""
        for text in texts:
            yield self.scan(text)


def scan(text: str, sets: Sequence[FingerprintSet]) -> list[FingerprintHit]:
    """Convenience: compile a matcher for ``sets`` and scan one text."""
    return FingerprintMatcher(sets).scan(text)
