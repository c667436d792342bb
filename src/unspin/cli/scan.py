"""``unspin scan`` and ``unspin report``: thin doors onto :mod:`unspin.scan` and
:mod:`unspin.report`.

``scan`` builds a :class:`~unspin.config.Config` and calls
:func:`unspin.scan.local.scan_local` (or, with ``--engine spark``,
:func:`unspin.scan.spark.scan_spark`). Exit codes: 0 every record analysed,
1 some records failed (error rows in the output), 2 nothing could be read or a
usage error. Run standalone as ``python -m unspin.cli.scan``; the main
``unspin`` command mounts it with :func:`register`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from unspin.errors import ResourceError, UnspinError


def scan_command(
    inputs: Annotated[list[str], typer.Argument(
        help="files, folders, or .lst/.paths listings (txt, html, pdf, jsonl, WARC/WET).")],
    out: Annotated[str, typer.Option("--out", help="output folder (Parquet parts, "
                                                   "manifest.jsonl, summary.json).")],
    workers: Annotated[int, typer.Option("--workers", help="worker processes.")] = 1,
    mode: Annotated[str, typer.Option("--mode", help="screen (fast) or full.")] = "screen",
    text_field: Annotated[str, typer.Option("--text-field", help="JSONL text field.")] = "text",
    id_field: Annotated[str, typer.Option("--id-field", help="JSONL id field.")] = "id",
    quiet: Annotated[bool, typer.Option("--quiet", help="plain log lines, no bar.")] = False,
    rescore_top: Annotated[int, typer.Option(
        "--rescore-top", help="re-run the K highest-scoring docs in full mode.")] = 0,
    batch_size: Annotated[int, typer.Option(
        "--batch-size", help="records per unit of work / part file.")] = 100,
    engine: Annotated[str, typer.Option("--engine", help="local (process pool) or spark.")]
    = "local",
    master: Annotated[str, typer.Option("--master", help="Spark master (engine spark).")]
    = "local[2]",
    cache: Annotated[str | None, typer.Option("--cache", help="resource cache directory.")]
    = None,
    lm: Annotated[str | None, typer.Option("--lm", help="n-gram model.")] = None,
) -> None:
    """Scan many documents; write one row per record to Parquet, resumably."""
    from unspin.config import Config
    from unspin.report.summary import to_markdown

    if engine not in ("local", "spark"):
        _usage(f"--engine must be local or spark, not {engine!r}")
    try:
        config = Config(mode=mode, cache_dir=cache, ngram_path=lm)
    except ValueError as exc:
        _usage(str(exc))
    if engine == "spark":
        from unspin.scan.spark import scan_spark

        result = scan_spark(inputs, out, config, master=master, batch_size=batch_size,
                            text_field=text_field, id_field=id_field)
    else:
        from unspin.scan.local import scan_local
        from unspin.scan.progress import reporter

        result = scan_local(inputs, out, config, workers=workers, batch_size=batch_size,
                            text_field=text_field, id_field=id_field, rescore_top=rescore_top,
                            progress=reporter(quiet))
    s = result.summary
    typer.echo(f"unspin scan: {s['records']} records, {s['analysed']} analysed, "
               f"{s['errors']} errors, {s['spun']} spun -> {result.out_dir}", err=True)
    if not quiet:
        typer.echo(to_markdown(s))
    raise typer.Exit(result.exit_code)


def report_command(
    folder: Annotated[str, typer.Argument(help="output folder of `unspin scan`.")],
    out: Annotated[str | None, typer.Option("--out", help="HTML file to write.")] = None,
    markdown: Annotated[bool, typer.Option("--markdown", help="print a Markdown summary.")]
    = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON.")]
    = False,
    no_text: Annotated[bool, typer.Option(
        "--no-text", help="do not re-read sources to show highlighted text.")] = False,
) -> None:
    """Summarise a scan: a self-contained HTML page and/or a Markdown summary."""
    from unspin.report.summary import summarize, to_markdown
    from unspin.scan.manifest import part_files, read_rows

    path = Path(folder)
    if not path.is_dir() or not part_files(path):
        _usage(f"{folder}: no part-*.parquet files; run `unspin scan ... --out {folder}` first")
    summary = summarize(read_rows(path))
    if out is None and not markdown and not as_json:
        markdown = True
    if out is not None:
        from unspin.report.html import render_html

        Path(out).write_text(render_html(summary, load_text=not no_text), encoding="utf-8")
        typer.echo(f"wrote {out}", err=True)
    if as_json:
        typer.echo(json.dumps(summary, indent=2, sort_keys=True))
    if markdown:
        typer.echo(to_markdown(summary))


def _usage(message: str) -> None:
    typer.echo(f"unspin: error: {message}", err=True)
    raise typer.Exit(2)


def register(root: typer.Typer) -> None:
    """Mount ``scan`` and ``report`` on the main ``unspin`` CLI."""
    root.command("scan")(scan_command)
    root.command("report")(report_command)


def main() -> None:
    """Standalone entry point with the same error handling as ``unspin``."""
    root = typer.Typer(no_args_is_help=True, add_completion=False,
                       pretty_exceptions_enable=False)
    register(root)
    try:
        root(standalone_mode=True)
    except ResourceError as exc:
        typer.echo(f"unspin: error: {exc}", err=True)
        sys.exit(3)
    except (UnspinError, ValueError) as exc:
        typer.echo(f"unspin: error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("unspin: interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
