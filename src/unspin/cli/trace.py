"""``unspin index``, ``unspin trace`` and ``unspin learn-trace``: a thin adapter.

Every command translates arguments, calls :mod:`unspin.trace` and prints.
Expected failures are one line on stderr with exit status 1; "no source
found" is an answer, not an error (exit 0, and empty ``matches`` in JSON).

Mounted on the main command with :func:`register`; runs standalone as
``python -m unspin.cli.trace``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from unspin.cli.errors import one_line_errors
from unspin.errors import UnspinError

index_app = typer.Typer(help="Build and inspect trace indexes of source documents.",
                        no_args_is_help=True, add_completion=False,
                        pretty_exceptions_enable=False)
learn_app = typer.Typer(help="Learn substitutions from traced copies; review them.",
                        no_args_is_help=True, add_completion=False,
                        pretty_exceptions_enable=False)




# ------------------------------------------------------------------- index


@index_app.command("build")
@one_line_errors
def index_build(
    inputs: Annotated[list[str], typer.Argument(
        help="JSONL (id, text, title, url, date), .txt/.html files or folders of them.")],
    out: Annotated[Path, typer.Option("--out", help="index directory (created or appended).")],
    processes: Annotated[int | None, typer.Option(
        "--processes", help="worker processes (default: all cores).")] = None,
    shards: Annotated[int, typer.Option("--shards", help="shard files (new index only).")] = 1,
    no_words: Annotated[bool, typer.Option(
        "--no-words", help="index immutables only (smaller, lower recall).")] = False,
    threshold: Annotated[float | None, typer.Option(
        "--threshold", help="match threshold to store (new index only).")] = None,
) -> None:
    """Index source documents so spun copies can be traced to them (appends if DIR exists)."""
    from unspin.trace.index import IndexParams, build_index, iter_source_records, read_params

    params = None
    if read_params(out) is None:
        base = IndexParams()
        params = IndexParams(
            shards=shards, words=not no_words,
            threshold=base.threshold if threshold is None else threshold)
    elif shards != 1 or no_words or threshold is not None:
        raise UnspinError(f"{out} exists: --shards, --no-words and --threshold apply only to a "
                          "new index (its stored parameters are kept on append)")
    rep = build_index(out, iter_source_records(inputs), params=params, processes=processes)
    typer.echo(f"added {rep.added:,} documents to {out} ({rep.docs_total:,} in total; "
               f"{rep.skipped_duplicates:,} duplicate ids and {rep.skipped_empty:,} empty "
               f"texts skipped) in {rep.seconds:.1f} s, "
               f"{rep.docs_per_second_per_core:.0f} docs/s per core")
    if rep.skipped_errors:
        typer.echo(f"{rep.skipped_errors:,} unreadable records skipped; first: "
                   f"{rep.first_error}", err=True)


@index_app.command("info")
@one_line_errors
def index_info_cmd(
    directory: Annotated[Path, typer.Argument(help="index directory.")],
) -> None:
    """Print the index's parameters, document count and size on disk (JSON)."""
    from unspin.trace.index import index_info

    typer.echo(json.dumps(index_info(directory), indent=2, sort_keys=True))


# ------------------------------------------------------------------- trace


def _render_plain(result: object, top: int) -> str:
    from unspin.trace.query import TraceResult

    assert isinstance(result, TraceResult)
    lines: list[str] = []
    if not result.found:
        lines.append(f"no source found (no candidate reaches the threshold "
                     f"{result.threshold:.2f})")
        return "\n".join(lines)
    for rank, m in enumerate(result.matches[:top], start=1):
        title = f"  {m.title}" if m.title else ""
        lines.append(f"{rank}. {m.id}  score {m.score:.3f}{title}")
    best = result.matches[0]
    lines.append("")
    lines.append(f"{len(best.passages)} passage(s), {len(best.substitutions)} substitution(s) "
                 f"(spun -> source):")
    for s in best.substitutions:
        lines.append(f"  [{s.spun_start}:{s.spun_end}] {s.spun!r} -> {s.source!r}")
    return "\n".join(lines)


def _render_rich(result: object, top: int) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from unspin.trace.query import TraceResult

    assert isinstance(result, TraceResult)
    console = Console()
    if not result.found:
        console.print(f"[bold]no source found[/bold] (no candidate reaches the threshold "
                      f"{result.threshold:.2f})")
        return
    ranking = Table(title="candidate sources")
    for col in ("rank", "id", "score", "coverage", "names/numbers", "title"):
        ranking.add_column(col)
    for rank, m in enumerate(result.matches[:top], start=1):
        ranking.add_row(str(rank), m.id, f"{m.score:.3f}", f"{m.coverage:.2f}",
                        f"{m.immutable_coverage:.2f}", m.title)
    console.print(ranking)
    best = result.matches[0]
    side = Table(title=f"spun text (left) against {best.id} (right)", show_lines=True)
    side.add_column("spun", ratio=1)
    side.add_column("source", ratio=1)
    for p in best.passages:
        left = Text(result.text[p.spun_start : p.spun_end])
        right = Text(best.source_text[p.source_start : p.source_end])
        for s in best.substitutions:
            if p.spun_start <= s.spun_start and s.spun_end <= p.spun_end:
                left.stylize("bold red", s.spun_start - p.spun_start, s.spun_end - p.spun_start)
            if p.source_start <= s.source_start and s.source_end <= p.source_end:
                right.stylize("bold green", s.source_start - p.source_start,
                              s.source_end - p.source_start)
        side.add_row(left, right)
    console.print(side)


@one_line_errors
def trace_cmd(
    index: Annotated[Path, typer.Option("--index", help="index directory.")],
    file: Annotated[str, typer.Argument(help="a text file, or - for standard input.")] = "-",
    as_json: Annotated[bool, typer.Option("--json", help="print JSON (unspin.trace/1).")] = False,
    top: Annotated[int, typer.Option("--top", help="candidates to show.")] = 5,
    plain: Annotated[bool, typer.Option("--plain", help="no colours or tables.")] = False,
) -> None:
    """Find the source a spun text was made from, and align the two."""
    from unspin.io.read import read_text
    from unspin.trace.index import Index
    from unspin.trace.query import trace

    text = read_text(file)
    with Index(index) as idx:
        result = trace(text, idx, top=max(top, 1))
    if as_json:
        sys.stdout.write(json.dumps(result.to_json(top), ensure_ascii=False) + "\n")
    elif plain or not sys.stdout.isatty():
        sys.stdout.write(_render_plain(result, top) + "\n")
    else:
        _render_rich(result, top)


# ------------------------------------------------------------------- learn


@learn_app.command("run")
@one_line_errors
def learn_run(
    inputs: Annotated[list[str], typer.Argument(
        help="spun texts: .txt/.html files, JSONL (text field) or folders.")],
    index: Annotated[Path, typer.Option("--index", help="index of the sources.")],
    out: Annotated[Path, typer.Option("--out", help="learned table (.tsv) to write or extend.")],
    review: Annotated[Path | None, typer.Option(
        "--review", help="also write a CSV review queue here.")] = None,
    source: Annotated[str, typer.Option("--source", help="provenance note.")] = "",
) -> None:
    """Trace spun texts and count the substitutions of confirmed matches."""
    from unspin.trace.index import Index, iter_source_records
    from unspin.trace.learn import learn_from_trace

    with Index(index) as idx:
        learning = learn_from_trace((r.text for r in iter_source_records(inputs)), idx,
                                    source=source, out=out, review=review)
    typer.echo(f"traced {learning.traced} of {learning.texts} texts; "
               f"{len(learning.table.pairs)} substitution pairs merged into {out}"
               + (f"; review queue in {review}" if review else ""))


@learn_app.command("apply-review")
@one_line_errors
def learn_apply_review(
    review: Annotated[Path, typer.Argument(help="reviewed CSV (decision = accept / reject).")],
    table: Annotated[Path, typer.Option("--table", help="learned table to update.")],
) -> None:
    """Merge accepted rows as status=accepted; drop rejected ones."""
    from unspin.trace.learn import apply_review

    rep = apply_review(review, table)
    typer.echo(f"{rep.accepted} accepted, {rep.rejected} rejected, {rep.undecided} left "
               f"undecided; table {table} updated")


# ---------------------------------------------------------------- mounting


def register(root: typer.Typer) -> None:
    """Add ``index``, ``trace`` and ``learn-trace`` to the main command."""
    root.add_typer(index_app, name="index")
    root.command("trace")(trace_cmd)
    root.add_typer(learn_app, name="learn-trace")


app = typer.Typer(name="unspin-trace", no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False)
register(app)

if __name__ == "__main__":
    app()
