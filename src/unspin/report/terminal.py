"""Terminal and JSON views of an :class:`~unspin.types.Analysis`.

Formatting lives here and nowhere else: the CLI, the service and the scan
report call these functions and add no formatting of their own.
"""

from __future__ import annotations

import json
from typing import Any

from unspin.types import Analysis

#: Says what the suspects list is, in both terminal views.
SUSPECTS_HEADER = ("not flagged, for review (would be flagged in a text known to be spun; "
                   "P(substituted | spun) shown):")


#: Heads the document-level evidence (boilerplate signatures, spinner family, leaked
#: originals, what moved P(spun)) in both terminal views.
EVIDENCE_HEADER = "document evidence:"


def to_json(analysis: Analysis, indent: int | None = 2, *, include_text: bool = False) -> str:
    """The JSON contract; ``include_text`` adds the analysed text as ``"text"``, for input
    whose text the caller does not have (an extracted HTML page or PDF), since the span
    offsets index that text."""
    doc = analysis.to_json()
    if include_text:
        doc["text"] = analysis.text
    return json.dumps(doc, ensure_ascii=False, indent=indent)


def verdict(analysis: Analysis) -> str:
    label = "SPUN" if analysis.spun else "not spun"
    return (f"{label}: P(spun) = {analysis.score:.3f}; {len(analysis.spans)} flagged span(s) "
            f"in {int(analysis.features.get('words', 0))} words "
            f"(mode {analysis.mode}, "
            f"estimated spin rate {analysis.features.get('spin_rate', 0):.2f})")


def render_rich(analysis: Analysis, explain: bool = True) -> list[Any]:
    """Rich renderables: the text with highlights, then a table of spans."""
    from rich.table import Table
    from rich.text import Text

    body = Text()
    pos = 0
    text = analysis.text
    for span in analysis.spans:
        body.append(text[pos : span.start])
        style = "bold red" if span.confidence >= 0.9 else ("red" if span.confidence >= 0.7
                                                           else "yellow")
        body.append(text[span.start : span.end], style=f"{style} underline")
        body.append(f"[{span.restored_label()}]", style="green")
        pos = span.end
    body.append(text[pos:])
    out: list[Any] = [Text(verdict(analysis), style="bold"), body]
    if explain and analysis.spans:
        table = Table(title="flagged spans", show_lines=False)
        for col in ("offsets", "spun", "restored", "conf", "candidates (posterior, sources)"):
            table.add_column(col)
        for s in analysis.spans:
            cands = "; ".join(
                f"{c.text} {c.posterior:.2f} ({'+'.join(c.sources)})" for c in s.candidates[:4]
            )
            table.add_row(f"{s.start}-{s.end}", s.text, s.restored_label(), f"{s.confidence:.2f}",
                          cands)
        out.append(table)
    if explain and analysis.evidence:
        out.append(Text(EVIDENCE_HEADER, style="bold"))
        out.extend(Text(f"  {e.kind}: {e.detail}") for e in analysis.evidence)
    if explain and analysis.suspects:
        table = Table(title=SUSPECTS_HEADER, show_lines=False)
        for col in ("offsets", "spun", "restored", "P(substituted | spun)"):
            table.add_column(col)
        for s in analysis.suspects:
            table.add_row(f"{s.start}-{s.end}", s.text, s.restored, f"{s.given_spun():.2f}")
        out.append(table)
    return out


def render_plain(analysis: Analysis) -> str:
    lines = [verdict(analysis)]
    for s in analysis.spans:
        cands = "; ".join(f"{c.text} {c.posterior:.2f}" for c in s.candidates[:4])
        lines.append(f"  {s.start}-{s.end}\t{s.text!r} -> {s.restored_label()!r}"
                     f"\t{s.confidence:.2f}\t[{cands}]")
    if analysis.evidence:
        lines.append(EVIDENCE_HEADER)
        lines.extend(f"  {e.kind}: {e.detail}" for e in analysis.evidence)
    if analysis.suspects:
        lines.append(SUSPECTS_HEADER)
        for s in analysis.suspects:
            lines.append(f"  {s.start}-{s.end}\t{s.text!r} -> {s.restored!r}\t"
                         f"{s.given_spun():.2f} if spun")
    return "\n".join(lines)
