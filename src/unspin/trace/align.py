"""Passage alignment of a spun text against its traced source.

difflib's SequenceMatcher runs over the normalised word tokens of both texts
(punctuation is left out: spinners rarely touch it, and copy-editing of the
source changes it for reasons that are not spinning). Runs of matching words
are grouped into **passages**: two matching blocks belong to one passage when
the gap between them is at most ``max_gap`` tokens on both sides, so a
spun copy of one paragraph of a long story gives one passage, not a score
spread over the whole story.

Inside a passage every ``replace`` block of at most ``max_tokens`` tokens a
side is a **substitution** (spun phrase next to the source phrase), with
character offsets into both exact input strings. ``coverage`` -- the share of
the spun text's words that sit in matching blocks -- is the alignment score
the trace threshold is calibrated on: ~0.5-0.9 for spun copies, well under
0.3 for unrelated stories.

>>> a = align_passages("The dying toll rose to 12 in Paris.", "The death toll rose to 12 in Paris.")
>>> [(s.spun, s.source) for s in a.substitutions]
[('dying', 'death')]
>>> round(a.coverage, 3)
0.875
"""

from __future__ import annotations

import difflib
import itertools
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

from unspin.text.tokenize import Token, tokenize
from unspin.trace.features import immutable_mask


@dataclass(frozen=True, slots=True)
class Substitution:
    """One spun word or phrase next to the source's, with offsets on both sides."""

    spun_start: int
    spun_end: int
    source_start: int
    source_end: int
    spun: str
    source: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Passage:
    """A stretch of the spun text that copies a stretch of the source."""

    spun_start: int
    spun_end: int
    source_start: int
    source_end: int
    matched_words: int
    spun_words: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Alignment:
    passages: tuple[Passage, ...]
    substitutions: tuple[Substitution, ...]
    #: matched spun words / all spun words (0..1)
    coverage: float
    spun_words: int
    #: matched words / all source words (0..1): low when only part was copied
    source_coverage: float = 0.0
    #: share of the spun text's immutables (names, numbers) inside passages,
    #: smoothed as (matched + 1) / (total + 1)
    immutable_coverage: float = 0.0

    @property
    def score(self) -> float:
        """coverage x immutable coverage: what the trace threshold applies to.

        A spun copy keeps every name and number, so both factors are high; a
        templated story ("Shr 21 cts vs 8 cts ...") or a rewrite of the same
        event matches many words but few of the query's names and numbers.
        """
        return self.coverage * self.immutable_coverage


def _words(text: str) -> list[Token]:
    return [t for t in tokenize(text) if t.norm[:1].isalnum()]


@lru_cache(maxsize=8)
def _spun_view(text: str) -> tuple[list[Token], list[bool]]:
    """Word tokens of the query and which are immutables (cached: one query, many sources)."""
    toks = tokenize(text)
    kinds = immutable_mask(text, toks)
    pairs = [(t, k in ("name", "number")) for t, k in zip(toks, kinds, strict=True)
             if t.norm[:1].isalnum()]
    return [t for t, _ in pairs], [f for _, f in pairs]


def align_passages(
    spun: str, source: str, *, max_gap: int = 8, max_tokens: int = 6, min_passage_words: int = 4
) -> Alignment:
    """Align ``spun`` to ``source``: passages, substitutions inside them, and coverage."""
    st, immutable = _spun_view(spun)
    ot = _words(source)
    if not st or not ot:
        return Alignment((), (), 0.0, len(st))
    sm = difflib.SequenceMatcher(a=[t.norm for t in st], b=[t.norm for t in ot], autojunk=False)
    blocks = [b for b in sm.get_matching_blocks() if b.size]
    # group blocks into passages
    groups: list[list[difflib.Match]] = []
    for b in blocks:
        if groups:
            last = groups[-1][-1]
            gap_a = b.a - (last.a + last.size)
            gap_b = b.b - (last.b + last.size)
            if gap_a <= max_gap and gap_b <= max_gap:
                groups[-1].append(b)
                continue
        groups.append([b])
    passages: list[Passage] = []
    subs: list[Substitution] = []
    matched = matched_imm = 0
    n_a, n_b = len(st), len(ot)
    for g in groups:
        size = sum(b.size for b in g)
        if size < min_passage_words:
            continue
        matched += size
        matched_imm += sum(sum(immutable[b.a : b.a + b.size]) for b in g)
        # word-index gaps: inside the passage, plus a short unmatched head at the
        # start of both texts and a short tail at their end (a substituted first
        # or last word leaves no matching block on its far side)
        gaps = [(p.a + p.size, n.a, p.b + p.size, n.b) for p, n in itertools.pairwise(g)]
        a0, a1 = g[0].a, g[-1].a + g[-1].size
        b0, b1 = g[0].b, g[-1].b + g[-1].size
        if 0 < a0 <= max_tokens and 0 < b0 <= max_tokens:
            gaps.insert(0, (0, a0, 0, b0))
            a0, b0 = 0, 0
        if 0 < n_a - a1 <= max_tokens and 0 < n_b - b1 <= max_tokens:
            gaps.append((a1, n_a, b1, n_b))
            a1, b1 = n_a, n_b
        passages.append(Passage(st[a0].start, st[a1 - 1].end, ot[b0].start, ot[b1 - 1].end,
                                size, a1 - a0))
        for i1, i2, j1, j2 in gaps:
            if i2 <= i1 or j2 <= j1:
                continue  # pure insertion or deletion: not a substitution
            if i2 - i1 > max_tokens or j2 - j1 > max_tokens:
                continue  # a rewrite, not spinning
            s0, s1 = st[i1].start, st[i2 - 1].end
            o0, o1 = ot[j1].start, ot[j2 - 1].end
            subs.append(Substitution(s0, s1, o0, o1, spun[s0:s1], source[o0:o1]))
    imm_cov = (matched_imm + 1) / (sum(immutable) + 1)
    return Alignment(tuple(passages), tuple(subs), matched / len(st), len(st),
                     matched / len(ot), imm_cov)
