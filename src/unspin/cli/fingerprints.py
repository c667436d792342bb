"""``unspin fingerprints``: import, inspect, export and match fingerprint lists.

A thin adapter: every command translates arguments, calls
:mod:`unspin.fingerprints` and prints. Errors are one line on stderr and a
non-zero exit status, never a traceback. Sets live in ``--dir`` (default
``$UNSPIN_CACHE/fingerprints`` or ``~/.cache/unspin/fingerprints``).

Run standalone as ``python -m unspin.cli.fingerprints``; the main ``unspin``
command mounts it with :func:`register`.
"""

from __future__ import annotations

import csv
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Annotated, Any

import typer

from unspin.cli.errors import fail, one_line_errors
from unspin.fingerprints.grammar import parse
from unspin.fingerprints.matcher import FingerprintMatcher
from unspin.fingerprints.store import (
    CSV_COLUMNS,
    ImportReport,
    fingerprints_dir,
    import_pps_csv,
    load_sets,
    operator_counts,
    save_set,
    write_pps_csv,
)

HELP = "Import, inspect, export and match fingerprint lists (PPS query format)."

app = typer.Typer(
    name="fingerprints",
    help=HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


DirOption = Annotated[
    Path | None,
    typer.Option(
        "--dir",
        help="Directory of stored sets (default: $UNSPIN_CACHE/fingerprints or "
        "~/.cache/unspin/fingerprints).",
    ),
]




def _store_dir(directory: Path | None) -> Path:
    return directory if directory is not None else fingerprints_dir()


def _print_report(report: ImportReport) -> None:
    fset = report.set
    typer.echo(f"{report.rows} rows, {fset.count} queries parsed, {len(report.failures)} rejected")
    typer.echo("queries by construct (a query may use several):")
    for op, n in report.operators.items():
        typer.echo(f"  {op:<10} {n}")


# ---------------------------------------------------------------- commands


@app.command("import")
@one_line_errors
def import_cmd(
    file: Annotated[Path, typer.Argument(help="A PPS fingerprint CSV export.")],
    name: Annotated[
        str | None, typer.Option("--name", help="Set name (default: the file's stem).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Parse and report only; store nothing.")
    ] = False,
    skip_bad: Annotated[
        bool,
        typer.Option("--skip-bad", help="Store the good rows even if some rows are rejected."),
    ] = False,
    source: Annotated[
        str | None, typer.Option("--source", help="Provenance to record (default: the path).")
    ] = None,
    directory: DirOption = None,
) -> None:
    """Parse a PPS CSV; store it as a named set unless --dry-run.

    Exit status 0 only if every row was imported (or --skip-bad was given);
    each rejected row is listed with its line number and reason.
    """
    report = import_pps_csv(file, name=name, source=source)
    _print_report(report)
    for failure in report.failures:
        typer.echo(f"{file}:{failure.line}: {failure.reason}", err=True)
    if dry_run:
        raise typer.Exit(0 if report.ok else 1)
    if not report.ok and not skip_bad:
        raise fail(
            f"{len(report.failures)} rows rejected; nothing stored (fix them or use --skip-bad)"
        )
    path = save_set(report.set, _store_dir(directory))
    typer.echo(f"stored set {report.set.name!r} ({report.set.count} queries) in {path}")


@app.command("list")
@one_line_errors
def list_cmd(directory: DirOption = None) -> None:
    """List stored sets with their provenance."""
    d = _store_dir(directory)
    sets = load_sets(d)
    if not sets:
        typer.echo(f"no fingerprint sets in {d}; import one with 'fingerprints import FILE.csv'")
        return
    for s in sets:
        typer.echo(f"{s.name}\t{s.count}\t{s.date}\t{s.sha256[:12]}\t{s.source}")


@app.command("stats")
@one_line_errors
def stats_cmd(directory: DirOption = None) -> None:
    """Counts by construct and paper totals for every stored set."""
    sets = load_sets(_store_dir(directory))
    if not sets:
        raise fail(f"no fingerprint sets in {_store_dir(directory)}")
    for s in sets:
        papers = sum(f.num_papers for f in s.fingerprints)
        typer.echo(f"{s.name}: {s.count} queries, {papers:,} papers (sum of num_papers)")
        for op, n in operator_counts(s.fingerprints).items():
            typer.echo(f"  {op:<10} {n}")


@app.command("export")
@one_line_errors
def export_cmd(
    name: Annotated[
        str | None, typer.Option("--name", help="Set to export (required if several).")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Output CSV (default: stdout).")] = None,
    directory: DirOption = None,
) -> None:
    """Write a stored set back in the PPS CSV format."""
    d = _store_dir(directory)
    sets = load_sets(d, [name] if name else None)
    if not sets:
        raise fail(f"no fingerprint sets in {d}")
    if len(sets) > 1:
        raise fail(
            "several sets are stored (" + ", ".join(s.name for s in sets) + "); choose one "
            "with --name"
        )
    fset = sets[0]
    if out is None:
        write_pps_csv(fset.fingerprints, sys.stdout)
        return
    with out.open("w", encoding="utf-8", newline="") as fh:
        n = write_pps_csv(fset.fingerprints, fh)
    typer.echo(f"wrote {n} queries of set {fset.name!r} to {out}", err=True)


@app.command("match")
@one_line_errors
def match_cmd(
    file: Annotated[str, typer.Argument(help="Text file to scan, or - for stdin.")] = "-",
    as_json: Annotated[bool, typer.Option("--json", help="Print hits as JSON.")] = False,
    name: Annotated[
        list[str] | None, typer.Option("--name", help="Only these sets (repeatable).")
    ] = None,
    directory: DirOption = None,
) -> None:
    """Scan a text with every stored set and print the hits."""
    d = _store_dir(directory)
    sets = load_sets(d, name or None)
    if not sets:
        raise fail(f"no fingerprint sets in {d}; import one with 'fingerprints import FILE.csv'")
    if file == "-":
        text = sys.stdin.read()
    else:
        try:
            text = Path(file).read_text("utf-8")
        except UnicodeDecodeError:
            raise fail(f"{file} is not UTF-8 text; convert it first") from None
    hits = FingerprintMatcher(sets).scan(text)
    if as_json:
        doc = {"format": "unspin.fingerprint-hits/1", "hits": [h.to_json() for h in hits]}
        typer.echo(json.dumps(doc, ensure_ascii=False))
        return
    for h in hits:
        typer.echo(
            f"{h.start}-{h.end}\t{h.text!r}\t-> {h.expected}\t[{h.list_name} {h.fingerprint_id}]"
            f"\t{h.query}"
        )
    typer.echo(f"{len(hits)} hits", err=True)


def _spans_of(line_no: int, obj: Any) -> list[dict[str, Any]]:
    if not isinstance(obj, dict) or not isinstance(obj.get("spans"), list):
        raise ValueError(f"line {line_no}: expected an object with a 'spans' list")
    spans: list[dict[str, Any]] = []
    for k, span in enumerate(obj["spans"]):
        if not isinstance(span, dict):
            raise ValueError(f"line {line_no}: span {k} is not an object")
        for key, kind in (("text", str), ("restored", str), ("confidence", (int, float))):
            if not isinstance(span.get(key), kind) or isinstance(span.get(key), bool):
                raise ValueError(f"line {line_no}: span {k} lacks a valid {key!r}")
        spans.append(span)
    return spans


@app.command("propose")
@one_line_errors
def propose_cmd(
    scan_json: Annotated[
        Path, typer.Option("--scan-json", help="JSONL of analyses (each with 'spans').")
    ],
    out: Annotated[Path, typer.Option("--out", help="Review queue CSV to write.")],
    min_count: Annotated[
        int, typer.Option("--min-count", help="Keep phrases seen in at least this many docs.")
    ] = 1,
) -> None:
    """Rank unlisted spans (documents x mean confidence) into a PPS-format review queue.

    ``num_papers`` in the output is the number of analyses the phrase occurs
    in; the expected phrase is its most frequent restoration.
    """
    docs: Counter[str] = Counter()
    confidences: defaultdict[str, list[float]] = defaultdict(list)
    surfaces: defaultdict[str, Counter[str]] = defaultdict(Counter)
    restorations: defaultdict[str, Counter[str]] = defaultdict(Counter)
    skipped_listed = unquotable = 0
    with scan_json.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{scan_json}:{line_no}: not JSON ({exc.msg})") from None
            seen_here: set[str] = set()
            for span in _spans_of(line_no, obj):
                if span.get("listed"):
                    skipped_listed += 1
                    continue
                surface = " ".join(span["text"].split())
                restored = " ".join(span["restored"].split())
                if not surface or surface.lower() == restored.lower():
                    continue
                if '"' in surface:
                    unquotable += 1
                    continue
                key = surface.lower()
                confidences[key].append(float(span["confidence"]))
                surfaces[key][surface] += 1
                restorations[key][restored] += 1
                seen_here.add(key)
            docs.update(seen_here)
    ranked = sorted(
        ((docs[k] * (sum(c) / len(c)), k) for k, c in confidences.items() if docs[k] >= min_count),
        key=lambda item: (-item[0], item[1]),
    )
    written = 0
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for _score, key in ranked:
            query = '"' + surfaces[key].most_common(1)[0][0] + '"'
            parse(query)  # never write a row the importer would reject
            writer.writerow([query, restorations[key].most_common(1)[0][0], f"{docs[key]:,}"])
            written += 1
    typer.echo(
        f"wrote {written} proposals to {out} (skipped {skipped_listed} listed spans, "
        f"{unquotable} containing a double quote)",
        err=True,
    )


def register(root: typer.Typer) -> None:
    """Mount this command group on the main ``unspin`` CLI."""
    root.add_typer(app, name="fingerprints", help=HELP)


if __name__ == "__main__":
    app()
