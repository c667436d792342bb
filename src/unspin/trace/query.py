"""Query a trace index: which indexed document was this text spun from?

Two passes, cheap then exact:

1. **Features.** The query's spin-invariant features (names, numbers,
   quotes, immutable sequences, surviving content words) are looked up in
   the inverted index. Features in more than ``max_df_ratio`` of documents
   are skipped (they cost postings and say little). Each document scores
   the sum of ``weight[kind] * idf`` over the features it shares with the
   query; the ``candidates`` best go on.
2. **Alignment.** The best ``verify`` candidates are aligned word by word
   with the query (:func:`unspin.trace.align.align_passages`). Their final
   ``score`` is the alignment *coverage* -- the share of the query's words
   that sit in passages copied from that document -- which is comparable
   across queries, so one threshold (calibrated on unrelated clean stories)
   decides whether a source was found.

``trace`` returns every verified candidate, best first, with ``matched``
set on those above the threshold; the alignment (passages and the
substitutions inside them) is kept for the top match.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

from unspin.errors import InputError
from unspin.trace.align import Alignment, Passage, Substitution, align_passages
from unspin.trace.features import extract_features
from unspin.trace.index import Index, StoredDoc

TRACE_SCHEMA = "unspin.trace/1"

#: Longest text ``trace`` accepts (characters); longer input is refused.
MAX_QUERY_CHARS = 1_000_000


@dataclass(frozen=True, slots=True)
class TraceMatch:
    """One candidate source and how well it explains the query."""

    id: str
    #: alignment score: share of the query's words copied from this source
    #: times the share of its names and numbers found there (0..1)
    score: float
    #: weighted share of the query's feature mass found in this source
    feature_score: float
    matched: bool
    title: str = ""
    url: str = ""
    date: str = ""
    source_text: str = ""
    coverage: float = 0.0
    immutable_coverage: float = 0.0
    passages: tuple[Passage, ...] = ()
    substitutions: tuple[Substitution, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "score": round(self.score, 6),
            "feature_score": round(self.feature_score, 6),
            "coverage": round(self.coverage, 6),
            "immutable_coverage": round(self.immutable_coverage, 6),
            "title": self.title,
            "url": self.url,
            "date": self.date,
            "passages": [p.to_json() for p in self.passages],
            "alignment": [s.to_json() for s in self.substitutions],
        }


@dataclass(frozen=True, slots=True)
class TraceResult:
    """Ranked candidate sources of one query text."""

    text: str
    candidates: tuple[TraceMatch, ...]
    threshold: float
    n_features: int
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def matches(self) -> tuple[TraceMatch, ...]:
        """Candidates above the threshold, best first (empty: no source found)."""
        return tuple(m for m in self.candidates if m.matched)

    @property
    def found(self) -> bool:
        return bool(self.candidates) and self.candidates[0].matched

    @property
    def best(self) -> TraceMatch | None:
        return self.candidates[0] if self.candidates else None

    def to_json(self, top: int | None = None) -> dict[str, Any]:
        matches = self.matches[:top] if top else self.matches
        return {
            "schema": TRACE_SCHEMA,
            "threshold": self.threshold,
            "matches": [m.to_json() for m in matches],
        }


def _validate(text: object) -> str:
    if isinstance(text, bytes | bytearray):
        raise InputError("trace() needs str, got bytes: decode first, e.g. data.decode('utf-8')")
    if not isinstance(text, str):
        raise InputError(f"trace() needs str, got {type(text).__name__}")
    if not text.strip():
        raise InputError("nothing to trace: the text is empty")
    if len(text) > MAX_QUERY_CHARS:
        raise InputError(f"text has {len(text):,} characters, over the trace cap of "
                         f"{MAX_QUERY_CHARS:,}; trace it in parts")
    return text


def feature_candidates(text: str, index: Index, limit: int) -> tuple[list[tuple[int, int, float]],
                                                                      int]:
    """Pass 1: ``(shard, doc, feature_score)`` best first, and the query's feature count."""
    params = index.params
    feats = extract_features(text, words=params.words)
    kinds = feats.hash_kinds()
    df = index.document_frequencies(feats.hashes)
    n_docs = max(1, len(index))
    cap = max(params.max_df_min, int(params.max_df_ratio * n_docs))
    weight: dict[int, float] = {}
    total = 0.0
    for h in feats.hashes:
        n = df.get(h, 0)
        w = params.weights.get(kinds[h], 1.0) * math.log(1.0 + n_docs / max(n, 1))
        if n > cap:
            continue
        total += w
        if n:
            weight[h] = w
    if total <= 0:
        return [], len(feats.hashes)
    # rarest (heaviest) first, in case the index must cut a very long query
    ordered = dict(sorted(weight.items(), key=lambda kv: -kv[1]))
    best = index.top_documents(ordered, limit)
    return [(k, d, s / total) for k, d, s in best], len(feats.hashes)


def trace(text: str, index: Index, *, top: int = 10, verify: int | None = None,
          threshold: float | None = None) -> TraceResult:
    """Trace ``text`` to its source in ``index``: ranked candidates, alignment of the best.

    ``verify`` candidates (default ``top``) are aligned word by word and
    ranked by coverage; ``threshold`` (default: the one stored in the index)
    decides which count as matches.
    """
    text = _validate(text)
    if top < 1:
        raise InputError("top must be at least 1")
    params = index.params
    thr = params.threshold if threshold is None else threshold
    t0 = time.perf_counter()
    cands, n_feats = feature_candidates(text, index, max(params.candidates, top))
    t1 = time.perf_counter()
    n_verify = verify if verify is not None else top
    scored: list[tuple[float, float, StoredDoc, Alignment]] = []
    for shard, doc, fscore in cands[:n_verify]:
        stored = index.document(shard, doc)
        al = align_passages(text, stored.text, max_gap=params.max_gap,
                            max_tokens=params.max_tokens)
        scored.append((al.score, fscore, stored, al))
    # ties (a story and its longer update) go to the source explained best
    scored.sort(key=lambda x: (-x[0], -x[3].source_coverage, -x[1]))
    matches: list[TraceMatch] = []
    for rank, (cov, fscore, stored, al) in enumerate(scored[:top]):
        keep = rank == 0
        matches.append(TraceMatch(
            stored.id, cov, fscore, cov >= thr, stored.title, stored.url, stored.date,
            stored.text if keep else "",
            al.coverage,
            al.immutable_coverage,
            al.passages if keep else (),
            al.substitutions if keep else (),
        ))
    t2 = time.perf_counter()
    return TraceResult(text, tuple(matches), thr, n_feats,
                       {"features": t1 - t0, "align": t2 - t1})
