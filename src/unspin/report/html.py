"""A self-contained HTML report of a scan: inline CSS and inline SVG, no scripts.

The page works offline and can be mailed as one file: nothing is fetched from
a network (no CDN, no JS library). It shows the score histogram, the spun
share by site/folder, the most frequent substitutions, spinner-signature
counts and the most suspicious documents with their spans highlighted. With
``load_text`` the text of those documents is re-read from their sources (the
same reader as the scan, so offsets match); if a source has moved, the spans
are listed without context.
"""

from __future__ import annotations

from html import escape
from typing import Any

from unspin.report.summary import to_markdown

CSS = """
body{font:15px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:1100px;color:#1d2330;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #dde}
table{border-collapse:collapse;width:100%;font-size:14px}
td,th{border-bottom:1px solid #eef;padding:4px 8px;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.cards{display:flex;gap:1rem;flex-wrap:wrap}.card{background:#f4f6fb;border-radius:8px;
padding:.6rem 1rem;min-width:9rem}.card b{display:block;font-size:1.4rem}
mark{background:#ffd6d6;border-bottom:2px solid #d33;padding:0 1px}
ins{color:#0a6b2f;text-decoration:none;font-size:12px;margin-left:2px}
.doc{background:#fafbfe;border:1px solid #e4e8f2;border-radius:6px;padding:.6rem .9rem;
margin:.6rem 0}.meta{color:#667;font-size:13px}svg text{font:11px sans-serif;fill:#334}
"""


def _svg_histogram(counts: list[int], width: int = 640, height: int = 180) -> str:
    n = len(counts)
    peak = max(counts) if counts and max(counts) > 0 else 1
    pad, bw = 30, (width - 40) / max(1, n)
    bars = []
    for i, c in enumerate(counts):
        h = (height - 2 * pad) * c / peak
        x = pad + i * bw
        y = height - pad - h
        colour = "#d33" if (i + 0.5) / n >= 0.5 else "#6a8cc7"
        bars.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bw - 2:.1f}" height="{h:.1f}" '
                    f'fill="{colour}"><title>{i / n:.2f}-{(i + 1) / n:.2f}: {c}</title></rect>')
        if c:
            bars.append(f'<text x="{x + bw / 2 - 4:.1f}" y="{y - 3:.1f}">{c}</text>')
    ticks = "".join(f'<text x="{pad + i * (width - 40) / 4 - 8:.1f}" y="{height - 10}">'
                    f"{i / 4:.2f}</text>" for i in range(5))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'role="img" aria-label="score histogram">'
            f'<line x1="{pad}" y1="{height - pad}" x2="{width - 10}" y2="{height - pad}" '
            f'stroke="#889"/>{"".join(bars)}{ticks}</svg>')


def _svg_share(groups: list[dict[str, Any]], width: int = 640) -> str:
    rows = groups[:15]
    height = 22 * len(rows) + 10
    label_w, bar_w = 260, width - 320
    parts = []
    for i, g in enumerate(rows):
        y = 5 + 22 * i
        w = bar_w * g["share"]
        name = g["group"] if len(g["group"]) <= 40 else "…" + g["group"][-39:]
        parts.append(f'<text x="0" y="{y + 14}">{escape(name)}</text>'
                     f'<rect x="{label_w}" y="{y}" width="{bar_w}" height="16" fill="#eef"/>'
                     f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="16" fill="#d33"/>'
                     f'<text x="{label_w + bar_w + 6}" y="{y + 14}">'
                     f'{100 * g["share"]:.0f}% of {g["docs"]}</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'role="img" aria-label="spun share by site or folder">{"".join(parts)}</svg>')


def _highlight(text: str, spans: list[dict[str, Any]]) -> str:
    out, pos = [], 0
    for sp in sorted(spans, key=lambda s: s["start"]):
        start, end = int(sp["start"]), int(sp["end"])
        if start < pos or end > len(text) or text[start:end] != sp["text"]:
            continue
        out.append(escape(text[pos:start]))
        out.append(f'<mark title="confidence {sp["confidence"]:.2f}">'
                   f'{escape(text[start:end])}</mark><ins>[{escape(sp["restored"])}]</ins>')
        pos = end
    out.append(escape(text[pos:]))
    return "".join(out)


def _load_texts(docs: list[dict[str, Any]]) -> dict[str, str]:
    """Re-read the texts of ``docs`` from their sources (best effort)."""
    from unspin.io.records import iter_file

    wanted: dict[str, set[str]] = {}
    for d in docs:
        wanted.setdefault(d["source"], set()).add(d["id"])
    texts: dict[str, str] = {}
    for source, ids in wanted.items():
        try:
            for rec in iter_file(source):
                if rec.id in ids and rec.text is not None:
                    texts[rec.id] = rec.text
                    if ids <= texts.keys():
                        break
        except Exception:  # a moved or changed source only costs the context
            continue
    return texts


def render_html(summary: dict[str, Any], load_text: bool = True,
                title: str = "unspin scan report") -> str:
    """The report page as one HTML string."""
    s = summary
    texts = _load_texts(s["top_documents"]) if load_text else {}
    cards = "".join(f'<div class="card"><b>{v}</b>{escape(k)}</div>' for k, v in (
        ("records", s["records"]), ("analysed", s["analysed"]), ("errors", s["errors"]),
        ("spun", s["spun"]), ("spun share", f"{100 * s['spun_share']:.1f}%"),
        ("mean score", f"{s['mean_score']:.3f}")))
    subs = "".join(
        f"<tr><td>{escape(x['spun'])}</td><td>{escape(x['restored'])}</td>"
        f"<td class=n>{x['count']}</td><td class=meta>{escape(x['example'])}</td></tr>"
        for x in s["substitutions"]) or "<tr><td colspan=4>no flagged spans</td></tr>"
    sigs = "".join(f"<tr><td>{escape(k)}</td><td class=n>{v}</td></tr>"
                   for k, v in s["signatures"].items()) or \
        "<tr><td colspan=2>no spinner signatures found</td></tr>"
    fams = "".join(f"<tr><td>{escape(k)}</td><td class=n>{v}</td></tr>"
                   for k, v in s.get("families", {}).items())
    docs = []
    for d in s["top_documents"]:
        text = texts.get(d["id"])
        body = _highlight(text, d["spans"]) if text is not None else "; ".join(
            f"<mark>{escape(sp['text'])}</mark><ins>[{escape(sp['restored'])}]</ins>"
            for sp in d["spans"]) or "<i>no spans</i>"
        docs.append(f'<div class="doc"><div class="meta">score {d["score"]:.3f} · '
                    f'{d["n_spans"]} span(s) · {escape(d["mode"])} · '
                    f'{escape(d["origin"])}<br>{escape(d["id"])}</div>{body}</div>')
    errors = "".join(f"<tr><td class=n>{e['count']}</td><td>{escape(e['reason'])}</td></tr>"
                     for e in s["error_reasons"]) or "<tr><td colspan=2>none</td></tr>"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title><style>{CSS}</style></head><body>
<h1>{escape(title)}</h1>
<div class="cards">{cards}</div>
<h2>Score distribution</h2>{_svg_histogram(s["score_histogram"]["counts"])}
<h2>Spun share by site / folder</h2>{_svg_share(s["by_group"])}
<h2>Most frequent substitutions</h2>
<table><tr><th>spun</th><th>restored</th><th class=n>count</th><th>example</th></tr>{subs}
</table>
<h2>Spinner signatures</h2><table><tr><th>signature</th><th class=n>documents</th></tr>{sigs}
{fams}</table>
<h2>Most suspicious documents</h2>{"".join(docs) or "<p>none</p>"}
<h2>Errors</h2><table><tr><th class=n>count</th><th>reason</th></tr>{errors}</table>
<!-- markdown summary for copy/paste:
{escape(to_markdown(s)).replace("--", "- -")}
-->
</body></html>
"""
