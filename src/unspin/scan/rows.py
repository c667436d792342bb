"""Record → row: the only place a scan touches the core.

:func:`analyze_record` is what every engine maps over records (local pool,
Spark tasks, the benchmark). It calls :func:`unspin.core.analyze` and turns
the :class:`~unspin.types.Analysis` (or the reason there is none) into a row of
:mod:`unspin.scan.schema`. It never raises: an unexpected exception inside the
core becomes an error row naming the exception, so one pathological document
cannot stop a crawl.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from typing import Any

from unspin.config import Config
from unspin.errors import InputError
from unspin.io.records import Record
from unspin.types import Analysis, Span

#: Spans kept per row in ``top_spans`` (the most confident first).
TOP_SPANS = 5

_STOP = frozenset([
    "the", "of", "and", "to", "a", "in", "is", "that", "for", "it", "on", "was", "with", "as",
    "by", "at", "from", "be", "this", "are", "have", "an", "has", "not", "or", "but", "which",
    "were", "their", "its", "they", "he", "she", "his", "her", "been", "will", "would", "said",
])
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def guess_language(text: str) -> str:
    """``"en"`` if the text looks English, else ``"other"``.

    Deliberately cheap: at least 90 % of letters are ASCII and at least 15 %
    of the first 400 words are common English function words. Enough to split a
    crawl; not a language identifier.
    """
    sample = text[:5000]
    letters = [c for c in sample if c.isalpha()]
    if not letters:
        return "other"
    ascii_share = sum(1 for c in letters if c.isascii()) / len(letters)
    words = [w.lower() for w in _WORD.findall(sample)[:400]]
    if not words:
        return "other"
    stop_share = sum(1 for w in words if w in _STOP) / len(words)
    return "en" if ascii_share >= 0.9 and stop_share >= 0.15 else "other"


def _spans_json(spans: Sequence[Span], given: bool = False) -> str:
    return json.dumps([{"text": s.text, "restored": s.restored,
                        "confidence": round(s.confidence, 6),
                        **({"given": round(s.given_spun(), 6)} if given else {}),
                        "start": s.start, "end": s.end} for s in spans], ensure_ascii=False)


def top_spans_json(analysis: Analysis, k: int = TOP_SPANS) -> str:
    return _spans_json(sorted(analysis.spans, key=lambda s: (-s.confidence, s.start))[:k])


def top_suspects_json(analysis: Analysis, k: int = TOP_SPANS) -> str:
    """The likeliest suspects: in a crawl, where a lightly spun copy reads as
    uncertain, they are what a reviewer sorts by."""
    return _spans_json(sorted(analysis.suspects, key=lambda s: (-s.given_spun(), s.start))[:k],
                       given=True)


def evidence_json(analysis: Analysis) -> str:
    return json.dumps([e.to_json() for e in analysis.evidence], ensure_ascii=False)


def error_row(record: Record, reason: str, mode: str, length: int = 0,
              elapsed: float = 0.0) -> dict[str, Any]:
    return {"id": record.id, "origin": record.origin.label, "source": record.origin.path,
            "score": None, "spun": None, "n_spans": 0, "top_spans": "[]", "n_suspects": 0,
            "top_suspects": "[]", "evidence": "[]",
            "language": "other", "length": length, "elapsed_s": elapsed,
            "error": reason, "mode": mode}


def analyze_record(record: Record, config: Config) -> dict[str, Any]:
    """One row for one record (analysed, or an error row with the reason)."""
    from unspin.core import analyze

    if record.error is not None or record.text is None:
        return error_row(record, record.error or "no text", config.mode)
    t0 = time.perf_counter()
    try:
        analysis = analyze(record.text, config)
    except InputError as exc:
        return error_row(record, str(exc), config.mode, len(record.text),
                         time.perf_counter() - t0)
    except Exception as exc:  # a core bug must not stop a crawl; the row names it
        msg = (str(exc).splitlines() or [""])[0][:200]
        return error_row(record, f"internal error {type(exc).__name__}: {msg}", config.mode,
                         len(record.text), time.perf_counter() - t0)
    elapsed = time.perf_counter() - t0 - analysis.timings.get("load_s", 0.0)
    return {"id": record.id, "origin": record.origin.label, "source": record.origin.path,
            "score": float(analysis.score), "spun": bool(analysis.spun),
            "n_spans": len(analysis.spans), "top_spans": top_spans_json(analysis),
            "n_suspects": len(analysis.suspects), "top_suspects": top_suspects_json(analysis),
            "evidence": evidence_json(analysis), "language": guess_language(record.text),
            "length": len(record.text), "elapsed_s": max(0.0, elapsed), "error": None,
            "mode": analysis.mode}
