"""A self-contained HTML report of one :class:`~unspin.types.Analysis`.

One file, inline CSS, no script, no fonts or images from anywhere: it can be
mailed, archived or opened offline years later and look the same. The web
page's "download report" button asks the service for it (``POST /v1/report``).

Layout: the verdict (with its probability), the text with every flagged span
highlighted and coloured by confidence (the same three bands as the terminal
report), the restored text with the replacements marked, then one table row
per span with its candidates, scores, sources and evidence. The suspects
(``Analysis.suspects``: spans that would be flagged in a text known to be spun,
never applied) are outlined in the text and listed in a table of their own.
Every string from the input is HTML-escaped; nothing in the input can add markup.

>>> from unspin.types import Analysis, Candidate, Span, Edit
>>> span = Span(4, 9, "dying", "death", 0.93,
...             (Candidate("death", -1.0, 0.93, ("moby",)),
...              Candidate("dying", -3.6, 0.07, ("spun",))))
>>> a = Analysis("The dying toll.", 0.97, True, "The death toll.", (span,),
...              (Edit(4, 9, "dying", "death", "moby", 0.93),), "full")
>>> page = render_page(a)
>>> '<mark class="c-high"' in page and "P(spun) = 0.970" in page
True
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from unspin import __version__
from unspin.types import Analysis, Edit, Span

#: Confidence bands, shared with the terminal report and the web page.
BANDS = ((0.9, "c-high", "high"), (0.7, "c-mid", "medium"), (0.0, "c-low", "low"))

_CSS = """
:root { color-scheme: light; --ink:#1b1f24; --muted:#57606a; --line:#d0d7de;
  --high:#ffc9c9; --high-b:#c92a2a; --mid:#ffe3bf; --mid-b:#d9480f;
  --low:#fff3bf; --low-b:#9c7a00; --ins:#d3f9d8; --ins-b:#2b8a3e; }
* { box-sizing: border-box; }
body { font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--ink); max-width: 60rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.4rem; margin: 0 0 .5rem; } h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
.verdict { border: 2px solid; border-radius: 8px; padding: .75rem 1rem; }
.verdict.spun { border-color: var(--high-b); background: #fff5f5; }
.verdict.clean { border-color: var(--ins-b); background: #ebfbee; }
.verdict strong { font-size: 1.2rem; }
.text { white-space: pre-wrap; overflow-wrap: anywhere; border: 1px solid var(--line);
  border-radius: 6px; padding: .75rem 1rem; }
mark { border-bottom: 2px solid; border-radius: 3px; padding: 0 .1em; color: inherit; }
mark.c-high { background: var(--high); border-color: var(--high-b); }
mark.c-mid { background: var(--mid); border-color: var(--mid-b); }
mark.c-low { background: var(--low); border-color: var(--low-b); }
mark.review { background: none; border: 1px dashed var(--muted); }
ins { background: var(--ins); text-decoration: none; border-bottom: 2px solid var(--ins-b); }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { border: 1px solid var(--line); padding: .3rem .5rem; text-align: left;
  vertical-align: top; }
.num { font-variant-numeric: tabular-nums; text-align: right; }
.wrap { overflow-x: auto; }
.legend span { display: inline-block; margin-right: 1rem; }
footer { color: var(--muted); font-size: .85rem; margin-top: 2rem; }
"""


def band(confidence: float) -> tuple[str, str]:
    """CSS class and word for a span confidence."""
    for floor, css, word in BANDS:
        if confidence >= floor:
            return css, word
    return BANDS[-1][1], BANDS[-1][2]


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _highlighted(text: str, spans: Iterable[Span], suspects: Iterable[Span] = ()) -> str:
    """Flagged spans marked by confidence band, suspects outlined (they never overlap)."""
    out: list[str] = []
    pos = 0
    marked = [(s, False) for s in spans] + [(s, True) for s in suspects]
    for s, review in sorted(marked, key=lambda t: t[0].start):
        out.append(_e(text[pos : s.start]))
        if review:
            out.append(f'<mark class="review" title="not flagged, for review; perhaps: '
                       f'{_e(s.restored)}">{_e(text[s.start : s.end])}</mark>')
        else:
            css, word = band(s.confidence)
            out.append(f'<mark class="{css}" title="{_e(word)} confidence {s.confidence:.2f}; '
                       f'restored: {_e(s.restored_label())}">{_e(text[s.start : s.end])}</mark>')
        pos = s.end
    out.append(_e(text[pos:]))
    return "".join(out)


def _restored(text: str, edits: Iterable[Edit]) -> str:
    out: list[str] = []
    pos = 0
    for e in edits:
        out.append(_e(text[pos : e.start]))
        out.append(f'<ins title="was: {_e(e.old)}">{_e(e.new)}</ins>')
        pos = e.end
    out.append(_e(text[pos:]))
    return "".join(out)


def _span_rows(spans: Iterable[Span], review: bool = False) -> str:
    rows = []
    for n, s in enumerate(spans, start=1):
        cands = "<br>".join(
            f"{_e(c.text)} &mdash; P {c.posterior:.3f}, score {c.score:.2f} "
            f"({_e(', '.join(c.sources))})" for c in s.candidates)
        evidence = "<br>".join(f"{_e(e.kind)}: {_e(e.detail)}" for e in s.evidence)
        css, word = ("review", "not flagged") if review else band(s.confidence)
        rows.append(
            f"<tr><td class=num>{n}</td><td class=num>{s.start}&ndash;{s.end}</td>"
            f'<td><mark class="{css}">{_e(s.text)}</mark></td><td>{_e(s.restored_label())}</td>'
            f"<td class=num>{s.confidence:.3f} ({word})</td><td>{cands}</td>"
            f"<td>{evidence}</td></tr>")
    return "\n".join(rows)


def _table(rows: str) -> str:
    return f"""<div class=wrap><table>
<thead><tr><th>#</th><th>offsets</th><th>spun</th><th>restored</th><th>confidence</th>
<th>candidates (posterior, score, sources)</th><th>evidence</th></tr></thead>
<tbody>
{rows}
</tbody></table></div>"""


def render_page(analysis: Analysis, title: str = "unspin report") -> str:
    """The complete HTML document for ``analysis``."""
    spun = analysis.spun
    label = "Likely spun" if spun else "Probably not spun"
    words = int(analysis.features.get("words", 0))
    spans = sorted(analysis.spans, key=lambda s: s.start)
    edits = sorted(analysis.edits, key=lambda e: e.start)
    suspects = sorted(analysis.suspects, key=lambda s: s.start)
    table = _table(_span_rows(spans)) if spans else "<p>No span was flagged.</p>"
    review = (f"""<h2>For review: not flagged, not applied</h2>
<p>Each would be flagged in a text known to be spun; the document model's P(spun) keeps its
confidence under the operating point (its evidence says by how much).</p>
{_table(_span_rows(suspects, review=True))}""" if suspects else "")
    doc_evidence = "".join(f"<li>{_e(e.kind)}: {_e(e.detail)}</li>" for e in analysis.evidence)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title>
<style>{_CSS}</style></head>
<body>
<h1>{_e(title)}</h1>
<section class="verdict {'spun' if spun else 'clean'}" aria-label="verdict">
<strong>{label}</strong> &mdash; P(spun) = {analysis.score:.3f}<br>
{len(spans)} flagged span(s){f", {len(suspects)} for review" if suspects else ""} in {words} words;
mode {_e(analysis.mode)}.
</section>
{f"<ul>{doc_evidence}</ul>" if doc_evidence else ""}
<h2>Text, flagged spans highlighted</h2>
<p class=legend><span><mark class=c-high>high</mark> &ge; 0.9</span>
<span><mark class=c-mid>medium</mark> &ge; 0.7</span>
<span><mark class=c-low>low</mark> &lt; 0.7</span>
{"<span><mark class=review>for review</mark> not flagged</span>" if suspects else ""}</p>
<div class=text>{_highlighted(analysis.text, spans, suspects)}</div>
<h2>Restored text</h2>
<div class=text>{_restored(analysis.text, edits)}</div>
<h2>Flagged spans</h2>
{table}
{review}
<footer>unspin {_e(__version__)}; JSON schema unspin.analysis/1. Every edit replays with
<code>unspin.apply_edits</code>.</footer>
</body></html>
"""
