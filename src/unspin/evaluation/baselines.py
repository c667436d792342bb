"""Baselines that plug into the harness exactly like the real restorer.

Every baseline is a callable ``str -> unspin.types.Analysis``:

* :class:`ListMatcher` -- what the Problematic Paper Screener does: exact
  matching of a fixed list of tortured phrases (Aho-Corasick over the plain
  quoted phrases of a PPS export), replacing each hit by its expected phrase.
  The CSV reader here is deliberately minimal (first quoted phrase of each
  query; proximity and wildcard queries skipped); the full query grammar
  lives in ``unspin.fingerprints`` and is not used, so the baseline stays
  independent of the system under test.
* :func:`identity` -- flags nothing, restores nothing. Its restoration score
  is the floor that shared words give for free (see ``metrics``).
* :class:`RarityHeuristic` -- flags words that are rare in the Norvig web
  unigram counts (``wordsegment``) or whose bigrams with both neighbours are
  unseen. Detection only: it restores nothing.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import ahocorasick

from unspin.text.morph import transfer_case
from unspin.text.tokenize import tokenize
from unspin.types import Analysis, Candidate, Edit, Span

_QUOTED_RE = re.compile(r'"([^"]+)"')


@dataclass(frozen=True, slots=True)
class FingerprintRow:
    """One usable row of a PPS export: a plain tortured phrase and its expected text."""

    tortured: str
    expected: tuple[str, ...]  # alternatives, first is the preferred one
    num_papers: int
    query: str


def _clean_expected(raw: str) -> tuple[str, ...]:
    text = re.sub(r"\([^)]*\)", "", raw).strip()
    alts = tuple(a.strip().lower() for a in text.split("/") if a.strip())
    return alts


def read_pps_csv(path: str | Path) -> list[FingerprintRow]:
    """Rows whose query has a plain first quoted phrase (no ``~N``, no ``*``).

    For ``"malignant growth" AND "cancer"`` the tortured phrase is the first
    quoted one; the AND/NOT context is ignored (documented simplification).
    Rows whose expected text is a comment rather than a phrase (longer than
    six words, or containing a URL) are skipped, and so are rows whose original
    is unknown (PPS writes "???"): no restoration could match them.
    """
    rows: list[FingerprintRow] = []
    with Path(path).open(encoding="utf-8", newline="") as fh:
        for rec in csv.DictReader(fh):
            query = rec["tortured_phrase"]
            if "~" in query or "*" in query:
                continue
            m = _QUOTED_RE.search(query)
            if not m:
                continue
            expected = _clean_expected(rec["expected_phrase"])
            if not expected or "http" in rec["expected_phrase"] or "?" in rec["expected_phrase"]:
                continue
            if any(len(e.split()) > 6 for e in expected):
                continue
            n = int(rec["num_papers"].replace(",", "") or 0)
            rows.append(FingerprintRow(" ".join(m.group(1).lower().split()), expected, n, query))
    return rows


def _lower_same_length(text: str) -> str:
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


class ListMatcher:
    """Aho-Corasick list matcher over tortured phrases (word-boundary hits only)."""

    name = "list-matcher"

    def __init__(self, rows: Iterable[FingerprintRow]) -> None:
        self._automaton = ahocorasick.Automaton()
        count = 0
        for row in rows:
            if row.tortured not in self._automaton:
                self._automaton.add_word(row.tortured, (row.tortured, row.expected[0]))
                count += 1
        if count == 0:
            raise ValueError("ListMatcher needs at least one fingerprint phrase")
        self._automaton.make_automaton()
        self.size = count

    def __call__(self, text: str) -> Analysis:
        low = _lower_same_length(text)
        hits: list[tuple[int, int, str]] = []
        for end_idx, (phrase, expected) in self._automaton.iter(low):
            start = end_idx - len(phrase) + 1
            end = end_idx + 1
            if start > 0 and low[start - 1].isalnum():
                continue
            if end < len(low) and low[end].isalnum():
                continue
            hits.append((start, end, expected))
        # keep the longest non-overlapping hits, left to right
        hits.sort(key=lambda h: (h[0], -(h[1] - h[0])))
        chosen: list[tuple[int, int, str]] = []
        for h in hits:
            if not chosen or h[0] >= chosen[-1][1]:
                chosen.append(h)
        spans = []
        edits = []
        pieces = []
        last = 0
        for start, end, expected in chosen:
            surface = text[start:end]
            restored = transfer_case(surface, expected)
            cand = Candidate(restored, 0.0, 1.0, ("fingerprints",))
            spans.append(Span(start, end, surface, restored, 1.0, (cand,), listed=True))
            edits.append(Edit(start, end, surface, restored, "fingerprints", 1.0))
            pieces.append(text[last:start])
            pieces.append(restored)
            last = end
        pieces.append(text[last:])
        score = 1.0 - 0.5 ** len(chosen)
        return Analysis(
            text=text,
            score=score,
            spun=bool(chosen),
            restored_text="".join(pieces),
            spans=tuple(spans),
            edits=tuple(edits),
            mode="baseline",
        )


def identity(text: str) -> Analysis:
    """The do-nothing baseline."""
    return Analysis(text, 0.0, False, text, (), (), "baseline")


@lru_cache(maxsize=1)
def _norvig_counts() -> tuple[dict[str, int], dict[str, int]]:
    import wordsegment

    base = Path(wordsegment.__file__).parent

    def read(name: str) -> dict[str, int]:
        out: dict[str, int] = {}
        with (base / name).open(encoding="utf-8") as fh:
            for line in fh:
                word, _, count = line.rstrip("\n").rpartition("\t")
                if word:
                    out[word] = int(count)
        return out

    return read("unigrams.txt"), read("bigrams.txt")


class RarityHeuristic:
    """Flag words rare on the web, or whose bigrams with both neighbours are unseen."""

    name = "rarity"

    def __init__(self, min_count: int = 2_000_000) -> None:
        self.min_count = min_count
        self._uni, self._bi = _norvig_counts()

    def __call__(self, text: str) -> Analysis:
        tokens = [t for t in tokenize(text) if t.text.isalpha()]
        spans = []
        for i, tok in enumerate(tokens):
            w = tok.norm
            if tok.text[:1].isupper() and i > 0:
                continue  # names are rare by nature
            count = self._uni.get(w, 0)
            rare = count < self.min_count
            left = tokens[i - 1].norm + " " + w if i > 0 else None
            right = w + " " + tokens[i + 1].norm if i + 1 < len(tokens) else None
            unseen = all(b is None or b not in self._bi for b in (left, right))
            if (rare and unseen and count > 0) or (count == 0 and len(w) > 3):
                conf = 1.0 - min(1.0, math.log10(count + 1) / math.log10(self.min_count))
                cand = Candidate(tok.text, 0.0, 1.0, ("rarity",))
                spans.append(Span(tok.start, tok.end, tok.text, tok.text, conf, (cand,)))
        words = max(1, len(tokens))
        rate = len(spans) / words
        score = 1.0 - math.exp(-rate * 20.0)
        return Analysis(text, score, score >= 0.5, text, tuple(spans), (), "baseline")
