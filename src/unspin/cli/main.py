"""The ``unspin`` command: a thin adapter that builds a Config and calls the core.

Every error unspin raises on purpose is printed as one line on stderr with a
non-zero exit (2 for bad input or usage, 3 for missing resources); nothing
here contains analysis logic.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from unspin.errors import ResourceError, UnspinError

app = typer.Typer(
    name="unspin",
    help="Find machine-spun text (tortured phrases) and restore the original wording.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
lm_app = typer.Typer(help="Build n-gram language models.", no_args_is_help=True)
resources_app = typer.Typer(help="Build and inspect the resource cache.", no_args_is_help=True)
app.add_typer(lm_app, name="lm")
app.add_typer(resources_app, name="resources")

FileArg = Annotated[str, typer.Argument(
    help="A text file, or - for standard input. An .html or .pdf file is read as its "
         "extracted text (as `unspin scan` reads it); span offsets index that text.")]


def _config(mode: str, lm: str | None, learned: list[str] | None, favor_precision: bool,
            favor_recall: bool, cache: str | None, extra: dict[str, Any] | None = None) -> Any:
    from unspin.config import Config

    opts: dict[str, Any] = {"mode": mode, "ngram_path": lm,
                            "learned_tables": tuple(learned or ()),
                            "favor_precision": favor_precision, "favor_recall": favor_recall,
                            "cache_dir": cache}
    opts.update(extra or {})
    return Config(**opts)


ModeOpt = Annotated[str, typer.Option("--mode", help="screen (fast) or full (accurate).")]
LmOpt = Annotated[str | None, typer.Option("--lm", help="n-gram model from `unspin lm build`.")]
LearnedOpt = Annotated[list[str] | None, typer.Option("--learned", help="learned table(s).")]
PrecOpt = Annotated[bool, typer.Option("--favor-precision", help="flag fewer, surer spans.")]
RecOpt = Annotated[bool, typer.Option("--favor-recall", help="flag more spans.")]
CacheOpt = Annotated[str | None, typer.Option("--cache", help="resource cache directory.")]
ScorerOpt = Annotated[str, typer.Option(
    "--scorer", help="ngram, or neural (the accurate tier: one SmolLM2 pass per text).")]
NeuralPrecisionOpt = Annotated[str, typer.Option(
    "--neural-precision",
    help="auto (bfloat16 where the CPU has it natively), float32 or bfloat16.")]


#: Printed (to stderr) when the default n-gram model flagged nothing.
DEFAULT_MODEL_TIP = (
    "tip: nothing flagged by the default n-gram model (general web counts), which finds "
    "few substitutions on its own; --scorer neural (the accurate tier) or --lm MODEL "
    "(built from your own archive with `unspin lm build`) find more")


@app.command()
def check(
    file: FileArg = "-",
    as_json: Annotated[bool, typer.Option("--json", help="print the JSON analysis.")] = False,
    plain: Annotated[bool, typer.Option("--plain", help="no colours or tables.")] = False,
    mode: ModeOpt = "full",
    lm: LmOpt = None,
    learned: LearnedOpt = None,
    favor_precision: PrecOpt = False,
    favor_recall: RecOpt = False,
    cache: CacheOpt = None,
    scorer: ScorerOpt = "ngram",
    neural_precision: NeuralPrecisionOpt = "auto",
) -> None:
    """Detect spun spans, show candidates and evidence."""
    from unspin.core import analyze
    from unspin.io.read import extracted_kind, read_document
    from unspin.report.terminal import render_plain, render_rich, to_json

    text = read_document(file)
    analysis = analyze(text, _config(mode, lm, learned, favor_precision, favor_recall, cache,
                                     {"scorer": scorer, "neural_precision": neural_precision}))
    if as_json:
        include_text = extracted_kind(file) is not None
        sys.stdout.write(to_json(analysis, include_text=include_text) + "\n")
    elif plain or not sys.stdout.isatty():
        sys.stdout.write(render_plain(analysis) + "\n")
    else:
        from rich.console import Console

        console = Console()
        for item in render_rich(analysis):
            console.print(item)
    if not analysis.spans and not as_json and scorer == "ngram" and lm is None:
        # The shipped web-count model finds little on its own (BENCHMARKS.md); a
        # user who sees "nothing flagged" should know what finds more.
        sys.stderr.write(DEFAULT_MODEL_TIP + "\n")


@app.command()
def restore(
    file: FileArg = "-",
    mode: ModeOpt = "full",
    lm: LmOpt = None,
    learned: LearnedOpt = None,
    favor_precision: PrecOpt = False,
    favor_recall: RecOpt = False,
    cache: CacheOpt = None,
    scorer: ScorerOpt = "ngram",
    neural_precision: NeuralPrecisionOpt = "auto",
) -> None:
    """Print the restored text."""
    from unspin.core import analyze
    from unspin.io.read import read_document

    text = read_document(file)
    analysis = analyze(text, _config(mode, lm, learned, favor_precision, favor_recall, cache,
                                     {"scorer": scorer, "neural_precision": neural_precision}))
    sys.stdout.write(analysis.restored_text)
    if not analysis.restored_text.endswith("\n"):
        sys.stdout.write("\n")


@app.command()
def learn(
    out: Annotated[str, typer.Option("--out", help="learned table to write or extend (.tsv).")],
    pairs: Annotated[str | None, typer.Option(
        "--pairs", help="JSONL with spun_text and original_text.")] = None,
    from_trace: Annotated[str | None, typer.Option(
        "--from-trace", help="trace index: trace --texts against it and learn from matches.")
    ] = None,
    texts: Annotated[list[str] | None, typer.Option(
        "--texts", help="with --from-trace: spun texts (files, folders, JSONL).")] = None,
    review: Annotated[str | None, typer.Option(
        "--review", help="with --from-trace: write the CSV review queue here.")] = None,
    source: Annotated[str, typer.Option("--source", help="provenance note.")] = "",
    accept: Annotated[bool, typer.Option("--accept", help="mark pairs accepted.")] = False,
    min_count: Annotated[int, typer.Option("--min-count", help="keep pairs seen this often.")] = 1,
) -> None:
    """Count substitutions into a learned table: from aligned pairs, or from traced copies."""
    from unspin.candidates.learned import LearnedTable, learn_from_pairs, read_pairs_jsonl
    from unspin.errors import InputError
    from unspin.io.read import read_text

    if (pairs is None) == (from_trace is None):
        raise InputError("give exactly one of --pairs FILE.jsonl or --from-trace INDEX_DIR")
    if from_trace is not None:
        from unspin.io.records import Record, iter_texts, report_skipped
        from unspin.trace import Index, learn_from_trace

        if not texts:
            raise InputError("--from-trace needs --texts: the spun texts to trace")
        skipped: list[Record] = []
        result = learn_from_trace(iter_texts(texts, skipped=skipped), Index(from_trace),
                                  source=source or f"traced against {from_trace}", out=out,
                                  review=review)
        if (line := report_skipped(skipped)) is not None:
            typer.echo(f"unspin: {line}", err=True)
        typer.echo(f"traced {result.traced} of {result.texts} texts; "
                   f"{len(result.table.pairs)} substitution pairs merged into {out}")
        return
    assert pairs is not None
    rows = read_pairs_jsonl(read_text(pairs), pairs)
    table = learn_from_pairs(rows, source=source or pairs)
    if accept:
        for p in table.pairs.values():
            p.status = "accepted"
    table.pairs = {k: v for k, v in table.pairs.items() if v.count >= min_count}
    target = Path(out)
    if target.exists():
        merged = LearnedTable.load(target)
        merged.merge(table)
        table = merged
    table.save(target)
    typer.echo(f"{len(table.pairs)} substitution pairs in {target} (from {len(rows)} text pairs)")


@lm_app.command("build")
def lm_build(
    corpus: Annotated[list[str], typer.Argument(
        help="files, folders, JSONL, WARC (anything `unspin scan` reads).")],
    out: Annotated[str, typer.Option("--out", help="ARPA file to write.")],
    text_field: Annotated[str, typer.Option("--text-field", help="JSONL text field.")] = "text",
    min_count: Annotated[int, typer.Option("--min-count", help="prune rarer trigrams.")] = 1,
) -> None:
    """Train a Kneser-Ney trigram model on your own text (an archive, back issues).

    Reads everything `unspin scan` reads (folders, txt, html, pdf, JSONL, WARC);
    unreadable records are counted and reported, not fatal.
    """
    from unspin.io.records import Record, iter_texts, report_skipped
    from unspin.lm.ngram import build_ngram

    skipped: list[Record] = []
    path = build_ngram(iter_texts(corpus, text_field, skipped), out, min_count=min_count)
    if (line := report_skipped(skipped)) is not None:
        typer.echo(f"unspin: {line}", err=True)
    typer.echo(f"wrote {path} ({path.stat().st_size:,} bytes); use it with --lm {path}")


@lm_app.command("mix")
def lm_mix(
    first: Annotated[str, typer.Argument(help="ARPA model (from `unspin lm build`).")],
    second: Annotated[str | None, typer.Argument(
        help="ARPA model to mix in (default: the shipped default model).")] = None,
    out: Annotated[str, typer.Option("--out", help="ARPA file to write.")] = "mixed.arpa",
    weight: Annotated[float, typer.Option("--weight", min=0.0, max=1.0,
                                          help="share of FIRST (the rest is SECOND's).")] = 0.5,
    cache: CacheOpt = None,
) -> None:
    """Interpolate two n-gram models into one (weight x FIRST + the rest x SECOND).

    Built for models whose fitted span and document models are refitted on the
    mixture (a corpus from `unspin lm generate` with the web counts: see
    docs/model.md). A model from your own archive is better used alone: the
    fits shipped for `--lm` models were made on one, and a mixture scored
    worse under them (measured in docs/model.md).
    """
    from unspin.lm.ngram import mix_ngram
    from unspin.resources.build import DEFAULT_NGRAM_FILE, ensure_built

    other = second if second is not None else str(ensure_built(cache) / DEFAULT_NGRAM_FILE)
    path = mix_ngram(first, other, weight, out)
    typer.echo(f"wrote {path} ({path.stat().st_size:,} bytes): {weight:g} x {first} + "
               f"{1 - weight:g} x {other}; use it with --lm {path}")


@lm_app.command("generate")
def lm_generate(
    out: Annotated[str, typer.Argument(help="JSONL corpus to write or resume.")],
    tokens: Annotated[int, typer.Option("--tokens", min=1,
                                        help="tokens to generate in this run.")] = 100_000,
    seed: Annotated[int, typer.Option("--seed", help="prompt and sampling seed.")] = 0,
    batch: Annotated[int, typer.Option("--batch", min=1, help="texts per batch.")] = 64,
    max_new: Annotated[int, typer.Option("--max-new", min=16,
                                         help="tokens per text at most.")] = 256,
    threads: Annotated[int | None, typer.Option("--threads", min=1,
                                                help="torch threads (default: all).")] = None,
) -> None:
    """Write a corpus with the shipped neural LM, for `unspin lm build` (neural extra).

    News reports, research abstracts and explainers on seeded topics. Resumes
    where an earlier run with the same settings stopped.
    """
    from unspin.lm.generate import GenerationSettings, generate_corpus

    settings = GenerationSettings(seed=seed, batch=batch, max_new_tokens=max_new)

    def progress(done: int, records: int) -> None:
        typer.echo(f"{done:,} / {tokens:,} tokens; {records:,} records in {out}", err=True)

    result = generate_corpus(out, tokens, settings, threads=threads, progress=progress)
    typer.echo(f"wrote {result.new_records:,} records ({result.new_tokens:,} tokens, "
               f"{result.seconds:.0f} s) to {result.path}; {result.records:,} in all; "
               f"build a model with `unspin lm build {result.path} --out MODEL.arpa`")


@resources_app.command("build")
def resources_build(
    cache: CacheOpt = None,
    force: Annotated[bool, typer.Option("--force", help="rebuild even if up to date.")] = False,
    neural: Annotated[bool, typer.Option(
        "--neural", help="also convert the accurate tier's model once (about a minute) "
        "and store its phrase-similarity vectors (a few minutes; both need the [neural] "
        "extra), into $UNSPIN_CACHE or ~/.cache/unspin, where --scorer neural reads "
        "them.")] = False,
) -> None:
    """Build the inverse-thesaurus index and default n-gram model from installed packages."""
    from unspin.resources.build import build_all
    from unspin.resources.cache import cache_dir

    manifest = build_all(cache, force=force)
    state = "up to date" if manifest.get("up_to_date") else "built"
    typer.echo(f"resources {state} in {cache_dir(cache)}")
    if neural:
        from unspin.resources.build import build_neural
        from unspin.resources.similarity import INSTALL_HINT

        model, table = build_neural(cache)
        typer.echo(f"neural LM ready in {model}")
        typer.echo(f"phrase similarity ready in {table}" if table is not None
                   else f"phrase similarity not installed: {INSTALL_HINT}")


@resources_app.command("status")
def resources_status(cache: CacheOpt = None) -> None:
    """Say where the cache is, what it holds and where it came from."""
    from unspin.resources.build import status

    typer.echo(json.dumps(status(cache), indent=2, sort_keys=True))


def _register_plugins() -> None:
    from unspin.cli import bench, fingerprints, scan, serve
    from unspin.cli import trace as trace_cli

    fingerprints.register(app)
    bench.register(app)
    serve.register(app)
    scan.register(app)
    trace_cli.register(app)


def main() -> None:
    _register_plugins()
    try:
        app(standalone_mode=True)
    except ResourceError as exc:
        typer.echo(f"unspin: error: {exc}", err=True)
        sys.exit(3)
    except UnspinError as exc:
        typer.echo(f"unspin: error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("unspin: interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except ValueError as exc:
        typer.echo(f"unspin: error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
