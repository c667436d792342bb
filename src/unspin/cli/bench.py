"""``unspin spin`` and ``unspin bench``: the evaluation doors.

A thin adapter over :mod:`unspin.simulate` and :mod:`unspin.evaluation`.
``spin`` prints spun text (or, with ``--json``, the text plus every
ground-truth substitution with offsets in both texts). ``bench run`` runs the
benchmark script of a source checkout (``bench/run.py``; the corpora it needs
exist only in development checkouts); ``bench gate`` runs the CI quality gate
against ``tests/gate_floors.json`` and exits 1 when a floor is missed.

Run standalone as ``python -m unspin.cli.bench``; the main ``unspin`` command
mounts it with :func:`register`.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

bench_app = typer.Typer(help="Benchmarks and the CI quality gate.", no_args_is_help=True)

_REPO = Path(__file__).resolve().parents[3]
DEFAULT_FLOORS = _REPO / "tests" / "gate_floors.json"


def _fail(message: str) -> None:
    typer.echo(f"unspin: {message}", err=True)
    raise typer.Exit(2)


def spin_command(
    file: Annotated[str, typer.Argument(help="text file to spin, or - for stdin")] = "-",
    profile: Annotated[str, typer.Option(help="spinner profile: a, b, c or d")] = "a",
    seed: Annotated[int, typer.Option(help="random seed (same seed, same output)")] = 0,
    rate: Annotated[
        float | None, typer.Option(help="override the profile's swap rate (0..1)")
    ] = None,
    protect_names: Annotated[
        bool, typer.Option("--protect-names/--no-protect-names", help="keep names and quotes")
    ] = True,
    spell_numbers: Annotated[
        bool, typer.Option("--spell-numbers", help="spell out small numbers as words")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="print text and ground-truth substitutions as JSON")
    ] = False,
) -> None:
    """Spin a clean text with a simulated spinner (evaluation data generator)."""
    from unspin.simulate import spin

    if file == "-":
        text = sys.stdin.read()
    else:
        path = Path(file)
        if not path.is_file():
            _fail(f"{file}: no such file (pass a text file, or - to read stdin)")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            _fail(f"{file} is not UTF-8 text; convert it first (iconv -t UTF-8)")
    try:
        doc = spin(text, profile, seed, rate=rate, protect_names=protect_names,
                   spell_numbers=spell_numbers)
    except ValueError as exc:
        _fail(str(exc))
    if as_json:
        typer.echo(json.dumps(doc.to_json(), ensure_ascii=False, indent=2))
    else:
        typer.echo(doc.text, nl=not doc.text.endswith("\n"))


def _load_runner() -> Any:
    path = _REPO / "bench" / "run.py"
    if not path.is_file():
        _fail(f"{path} not found: `unspin bench run` needs a source checkout of unspin")
    spec = importlib.util.spec_from_file_location("unspin_bench_run", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@bench_app.command("run")
def bench_run(
    quick: Annotated[bool, typer.Option(help="small samples (minutes, not half an hour)")] = False,
    out: Annotated[
        Path | None, typer.Option(help="also write the markdown to this file")
    ] = None,
    section: Annotated[str | None, typer.Option(help="run only this section")] = None,
) -> None:
    """Run the benchmarks side by side and print markdown tables."""
    runner = _load_runner()
    argv = ["--quick"] if quick else []
    if out is not None:
        argv += ["--out", str(out)]
    if section is not None:
        argv += ["--section", section]
    raise typer.Exit(runner.main(argv))


@bench_app.command("gate")
def bench_gate(
    floors: Annotated[Path, typer.Option(help="floors file")] = DEFAULT_FLOORS,
    pin: Annotated[
        bool, typer.Option("--pin", help="write measured values minus the stated margins")
    ] = False,
    loosen: Annotated[
        bool, typer.Option("--loosen", help="with --pin, let a floor fall or a ceiling rise "
                                            "(a deliberate trade-off, or a new slice)")
    ] = False,
    tier: Annotated[str, typer.Option(
        help="ngram (newsroom n-gram, full mode), neural (the same + neural LM) or shipped "
             "(default n-gram + neural LM: nothing but the installed packages)")] = "ngram",
) -> None:
    """Run the quality gate with the core restorer; exit 1 if a floor is missed."""
    from unspin.evaluation import harness

    if tier not in harness.GATE_TIERS:
        _fail(f"--tier must be one of {', '.join(harness.GATE_TIERS)}, not {tier!r}")

    if not floors.is_file():
        _fail(f"{floors} not found; pass --floors PATH")
    spec = json.loads(floors.read_text(encoding="utf-8"))
    sl = harness.gate_slice()
    if spec.get("slice_hash") not in (None, sl.hash) and not (pin and loosen):
        _fail(f"gate slice hash {sl.hash} != pinned {spec.get('slice_hash')}: the slice "
              "changed; re-pin the floors deliberately with --pin --loosen")
    # the n-gram tier's floors sit at the top of the file, the others' under their name
    block = spec if tier == "ngram" else spec.setdefault(
        tier, {"ceilings": {"false_change_rate": None},
               "configuration": harness.GATE_CONFIGURATIONS[tier]})
    measured = harness.run_gate(harness.gate_restorer(tier), sl)
    for name, value in measured.items():
        typer.echo(f"{name:20s} {value:.4f}")
    if pin:
        spec["slice_hash"] = sl.hash
        notes = harness.pin_floors(block, measured, loosen)
        for note in notes:
            typer.echo(note, err=True)
        if any(note.startswith("FAILS") for note in notes):
            _fail(f"{tier}: a measurement misses a pinned bound; nothing written (fix the "
                  "regression, or pass --loosen if the trade-off is deliberate)")
        floors.write_text(json.dumps(spec, indent=2) + "\n", encoding="utf-8")
        typer.echo(f"pinned {tier} floors in {floors}")
        return
    failures = harness.check_floors(measured, block)
    for f in failures:
        typer.echo(f"FAIL {f}", err=True)
    raise typer.Exit(1 if failures else 0)


def register(root: typer.Typer) -> None:
    """Mount ``spin`` and the ``bench`` group on the main ``unspin`` CLI."""
    root.command("spin")(spin_command)
    root.add_typer(bench_app, name="bench")


if __name__ == "__main__":
    _root = typer.Typer(no_args_is_help=True)
    register(_root)
    _root()
