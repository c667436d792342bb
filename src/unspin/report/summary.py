"""Aggregate a scan's rows into the numbers a report shows (and ``summary.json``).

Input is the pyarrow Table of :mod:`unspin.scan.schema` rows, from a local or a
Spark scan alike. Everything here is plain counting; the HTML page
(:mod:`unspin.report.html`) and the Markdown summary only format the result.

Substitution counts come from each row's ``top_spans`` (the five most
confident spans of a document), so for heavily spun documents they undercount;
they rank the spinner's favourite substitutions, which is what they are for.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter, defaultdict
from typing import Any
from urllib.parse import urlsplit

SUMMARY_SCHEMA = "unspin.scan-summary/1"
HIST_BINS = 20
TOP_DOCS = 20
TOP_SUBS = 30
TOP_GROUPS = 25


def group_of(origin: str) -> str:
    """Site (URL host) or folder (parent directory) of a row's origin."""
    if "://" in origin:
        host = urlsplit(origin).hostname or origin
        return host.removeprefix("www.")
    return os.path.dirname(origin) or "."


def _reason_key(reason: str) -> str:
    """Group error reasons that differ only in numbers or quoted names."""
    reason = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", reason)
    return re.sub(r"\d[\d,._]*", "N", reason)[:160]


def signature_name(detail: str) -> str:
    """The signature's name: the first word of its evidence detail."""
    return detail.split(" ", 1)[0] if detail else "?"


def summarize(table: Any) -> dict[str, Any]:
    """Counts, histogram, groups, substitutions, signatures and top documents."""
    rows: list[dict[str, Any]] = table.to_pylist()
    analysed = [r for r in rows if r["error"] is None]
    scores = [float(r["score"]) for r in analysed if r["score"] is not None]
    spun = [r for r in analysed if r["spun"]]
    hist = [0] * HIST_BINS
    for s in scores:
        hist[min(HIST_BINS - 1, max(0, int(s * HIST_BINS)))] += 1

    groups: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in analysed:
        g = groups[group_of(r["origin"])]
        g[0] += 1
        g[1] += 1 if r["spun"] else 0
    by_group: list[dict[str, Any]] = [
        {"group": k, "docs": v[0], "spun": v[1], "share": v[1] / v[0] if v[0] else 0.0}
        for k, v in sorted(groups.items(), key=lambda kv: (-kv[1][0], kv[0]))[:TOP_GROUPS]]

    subs: Counter[tuple[str, str]] = Counter()
    example: dict[tuple[str, str], str] = {}
    signatures: Counter[str] = Counter()
    families: Counter[str] = Counter()
    for r in sorted(analysed, key=lambda r: r["id"]):
        for sp in json.loads(r["top_spans"] or "[]"):
            key = (sp["text"].lower(), sp["restored"].lower())
            if key[0] == key[1]:
                continue  # flagged with no known original: not a substitution
            subs[key] += 1
            example.setdefault(key, r["id"])
        for ev in json.loads(r["evidence"] or "[]"):
            if ev.get("kind") == "signature":
                signatures[signature_name(ev.get("detail", ""))] += 1
            elif ev.get("kind") == "family":
                families[ev.get("detail", "")] += 1

    errors = Counter(_reason_key(r["error"]) for r in rows if r["error"] is not None)
    top = sorted(analysed, key=lambda r: (-(r["score"] or 0.0), r["id"]))[:TOP_DOCS]
    elapsed = sum(float(r["elapsed_s"]) for r in rows)
    chars = sum(int(r["length"]) for r in analysed)
    return {
        "schema": SUMMARY_SCHEMA,
        "records": len(rows),
        "analysed": len(analysed),
        "errors": len(rows) - len(analysed),
        "spun": len(spun),
        "spun_share": len(spun) / len(analysed) if analysed else 0.0,
        "mean_score": sum(scores) / len(scores) if scores else 0.0,
        "chars": chars,
        "core_seconds": round(elapsed, 3),
        "modes": dict(Counter(r["mode"] for r in rows)),
        "languages": dict(Counter(r["language"] for r in analysed)),
        "score_histogram": {"bins": HIST_BINS, "counts": hist},
        "by_group": by_group,
        "substitutions": [{"spun": k[0], "restored": k[1], "count": n, "example": example[k]}
                          for k, n in sorted(subs.items(), key=lambda kv: (-kv[1], kv[0]))
                          [:TOP_SUBS]],
        "signatures": dict(sorted(signatures.items(), key=lambda kv: (-kv[1], kv[0]))),
        "families": dict(sorted(families.items(), key=lambda kv: (-kv[1], kv[0]))),
        "error_reasons": [{"reason": k, "count": n} for k, n in errors.most_common(10)],
        "top_documents": [{"id": r["id"], "origin": r["origin"], "source": r["source"],
                           "score": r["score"], "n_spans": r["n_spans"], "mode": r["mode"],
                           "spans": json.loads(r["top_spans"] or "[]")} for r in top],
    }


def to_markdown(summary: dict[str, Any]) -> str:
    """A terminal-sized Markdown summary of :func:`summarize`'s result."""
    s = summary
    lines = [
        "# unspin scan summary",
        "",
        f"- records: **{s['records']}** ({s['analysed']} analysed, {s['errors']} errors)",
        f"- spun: **{s['spun']}** ({100 * s['spun_share']:.1f} % of analysed), "
        f"mean score {s['mean_score']:.3f}",
        f"- modes: {', '.join(f'{k} {v}' for k, v in sorted(s['modes'].items())) or '-'}; "
        f"languages: {', '.join(f'{k} {v}' for k, v in sorted(s['languages'].items())) or '-'}",
        "",
    ]
    counts = s["score_histogram"]["counts"]
    peak = max(counts) if counts and max(counts) else 1
    lines += ["## Score distribution", "", "```"]
    bins = len(counts)
    for i, c in enumerate(counts):
        lines.append(f"{i / bins:4.2f}-{(i + 1) / bins:4.2f} {'#' * round(30 * c / peak):30s} {c}")
    lines += ["```", ""]
    if s["by_group"]:
        lines += ["## Spun share by site/folder", "", "| site/folder | docs | spun | share |",
                  "|---|---:|---:|---:|"]
        lines += [f"| {g['group']} | {g['docs']} | {g['spun']} | {100 * g['share']:.1f} % |"
                  for g in s["by_group"][:10]]
        lines.append("")
    if s["substitutions"]:
        lines += ["## Most frequent substitutions", "", "| spun | restored | count | example |",
                  "|---|---|---:|---|"]
        lines += [f"| {x['spun']} | {x['restored']} | {x['count']} | {x['example']} |"
                  for x in s["substitutions"][:10]]
        lines.append("")
    if s["signatures"]:
        lines += ["## Spinner signatures", ""]
        lines += [f"- {k}: {v}" for k, v in s["signatures"].items()]
        lines.append("")
    if s["top_documents"]:
        lines += ["## Most suspicious documents", "", "| score | spans | id |", "|---:|---:|---|"]
        lines += [f"| {d['score']:.3f} | {d['n_spans']} | {d['id']} |"
                  for d in s["top_documents"][:10]]
        lines.append("")
    if s["error_reasons"]:
        lines += ["## Errors", ""]
        lines += [f"- {e['count']} × {e['reason']}" for e in s["error_reasons"]]
        lines.append("")
    return "\n".join(lines)
