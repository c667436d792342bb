"""Trace a spun text to its source, and learn substitutions from what is traced.

>>> from unspin.trace import Index, build_index, trace      # doctest: +SKIP
>>> build_index("idx", iter_source_records(["stories.jsonl"]))  # doctest: +SKIP
>>> result = trace(spun_text, Index("idx"))                 # doctest: +SKIP
>>> result.best.id, result.best.score                       # doctest: +SKIP

See docs/trace.md for the design, the benchmark and how the index shards.
"""

from unspin.trace.align import Alignment, Passage, Substitution, align_passages
from unspin.trace.features import Features, extract_features
from unspin.trace.index import (
    BuildReport,
    Index,
    IndexParams,
    SourceRecord,
    build_index,
    index_info,
    iter_source_records,
)
from unspin.trace.learn import apply_review, export_review, learn_from_trace
from unspin.trace.query import TRACE_SCHEMA, TraceMatch, TraceResult, trace

__all__ = [
    "TRACE_SCHEMA",
    "Alignment",
    "BuildReport",
    "Features",
    "Index",
    "IndexParams",
    "Passage",
    "SourceRecord",
    "Substitution",
    "TraceMatch",
    "TraceResult",
    "align_passages",
    "apply_review",
    "build_index",
    "export_review",
    "extract_features",
    "index_info",
    "iter_source_records",
    "learn_from_trace",
    "trace",
]
