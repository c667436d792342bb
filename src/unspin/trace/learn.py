"""Learn substitutions from traced copies, with a human review queue.

A spun text traced to its source with an alignment above the threshold is a
(spun, original) pair found in the wild; its substitutions are the spinner's
vocabulary, including idioms no thesaurus has ("international locations" for
"countries"). :func:`learn_from_trace` counts them into a
:class:`~unspin.candidates.learned.LearnedTable` (``unspin.learned/1``: the
versioned TSV the restorer reads) with status ``proposed`` and a provenance
line naming the index and how many texts were traced.

:func:`export_review` writes the proposals as CSV (``original, spun, count,
docs, example, decision``) for a human; :func:`apply_review` merges the rows
marked ``accept`` back as ``status=accepted`` and drops the rows marked
``reject`` (a rejected pair is not a spinner's substitution, so the channel
must not use it). Rows left blank stay as they were.

Filters, the same as ``learn_from_pairs``: substitutions that change a
number are editing differences between copies, not spinning, and are
skipped; so are case- or punctuation-only differences.
"""

from __future__ import annotations

import csv
import datetime as _dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from unspin.candidates.learned import LearnedTable
from unspin.errors import FormatError
from unspin.text.tokenize import words
from unspin.trace.index import Index
from unspin.trace.query import trace

REVIEW_COLUMNS = ("original", "spun", "count", "docs", "example", "decision")
_CONTEXT = 40


@dataclass
class TraceLearning:
    """What :func:`learn_from_trace` harvested."""

    table: LearnedTable
    #: one context example per (original, spun) pair, for the review queue
    examples: dict[tuple[str, str], str] = field(default_factory=dict)
    texts: int = 0
    traced: int = 0
    #: which source ids each pair was learned from (first few)
    sources: dict[tuple[str, str], list[str]] = field(default_factory=dict)


def _key(phrase: str) -> str:
    return " ".join(w for w in words(phrase) if w[:1].isalnum())


def _context(text: str, start: int, end: int) -> str:
    a = max(0, start - _CONTEXT)
    b = min(len(text), end + _CONTEXT)
    return " ".join(f"{text[a:start]}[{text[start:end]}]{text[end:b]}".split())


def learn_from_trace(
    texts: Iterable[str],
    index: Index,
    *,
    source: str = "",
    threshold: float | None = None,
    max_tokens: int = 4,
    when: str | None = None,
    out: str | Path | None = None,
    review: str | Path | None = None,
) -> TraceLearning:
    """Trace every text; count the substitutions of confirmed matches.

    A text counts only when its best source clears ``threshold`` (default:
    the index's calibrated one). ``out`` merges the result into a learned
    table on disk (created if missing); ``review`` writes the CSV queue.
    """
    day = when or _dt.date.today().isoformat()
    table = LearnedTable()
    learning = TraceLearning(table)
    for text in texts:
        learning.texts += 1
        if not text.strip():
            continue
        result = trace(text, index, top=1, verify=3, threshold=threshold)
        best = result.best
        if best is None or not best.matched:
            continue
        learning.traced += 1
        seen: set[tuple[str, str]] = set()
        for s in best.substitutions:
            o_words, s_words = words(s.source), words(s.spun)
            if any(w[:1].isdigit() for w in o_words + s_words):
                continue
            if len(o_words) > max_tokens or len(s_words) > max_tokens:
                continue
            key = (_key(s.source), _key(s.spun))
            if not key[0] or not key[1] or key[0] == key[1]:
                continue
            table.add(key[0], key[1], 1, 0 if key in seen else 1, day)
            if key not in seen:
                ids = learning.sources.setdefault(key, [])
                if len(ids) < 5:
                    ids.append(best.id)
            seen.add(key)
            if key not in learning.examples:
                learning.examples[key] = (
                    f"spun: {_context(text, s.spun_start, s.spun_end)} | source "
                    f"{best.id}: {_context(best.source_text, s.source_start, s.source_end)}"
                )
    table.source = (source or f"unspin trace: index {index.directory} "
                    f"({learning.traced} of {learning.texts} texts traced, {day})")
    if out is not None:
        target = Path(out)
        if target.exists():
            merged = LearnedTable.load(target)
            merged.merge(table)
            merged.source = "; ".join(x for x in (merged.source, table.source) if x)
            merged.save(target)
        else:
            table.save(target)
    if review is not None:
        export_review(learning, review)
    return learning


def export_review(learning: TraceLearning, path: str | Path) -> Path:
    """Write the proposed pairs as a CSV review queue, most frequent first."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = sorted(learning.table.pairs.values(), key=lambda p: (-p.count, p.original, p.spun))
    with out.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(REVIEW_COLUMNS)
        for p in rows:
            if p.status == "accepted":
                continue
            w.writerow([p.original, p.spun, p.count, p.docs,
                        learning.examples.get((p.original, p.spun), ""), ""])
    return out


@dataclass(frozen=True)
class ReviewReport:
    accepted: int
    rejected: int
    undecided: int


def apply_review(review: str | Path, table_path: str | Path) -> ReviewReport:
    """Merge a reviewed CSV into the learned table at ``table_path``.

    ``decision`` = ``accept`` marks (or adds) the pair as accepted;
    ``reject`` removes it; anything else leaves it unchanged.
    """
    rpath, tpath = Path(review), Path(table_path)
    table = LearnedTable.load(tpath) if tpath.exists() else LearnedTable(source="reviewed")
    accepted = rejected = undecided = 0
    try:
        fh = rpath.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise FormatError(f"cannot read review file {rpath}: {exc.strerror}") from None
    with fh:
        reader = csv.DictReader(fh)
        missing = [c for c in ("original", "spun", "decision") if c not in (reader.fieldnames
                                                                          or [])]
        if missing:
            raise FormatError(f"{rpath}: review CSV lacks column(s) {', '.join(missing)}; "
                              f"expected {', '.join(REVIEW_COLUMNS)}")
        for n, row in enumerate(reader, start=2):
            decision = (row.get("decision") or "").strip().lower()
            key = ((row.get("original") or "").strip().lower(),
                   (row.get("spun") or "").strip().lower())
            if not key[0] or not key[1]:
                raise FormatError(f"{rpath}:{n}: original and spun must not be empty")
            if decision == "accept":
                accepted += 1
                got = table.pairs.get(key)
                if got is None:
                    try:
                        count, docs = int(row.get("count") or 1), int(row.get("docs") or 1)
                    except ValueError:
                        raise FormatError(f"{rpath}:{n}: count and docs must be integers") \
                            from None
                    table.add(key[0], key[1], count, docs, status="accepted")
                else:
                    got.status = "accepted"
            elif decision == "reject":
                rejected += 1
                table.pairs.pop(key, None)
            else:
                undecided += 1
    table.save(tpath)
    return ReviewReport(accepted, rejected, undecided)
