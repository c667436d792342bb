"""The CI quality gate: pinned floors on a small labelled slice, proven able to fail.

The slice (``harness.gate_slice``): 40 short test-split documents per spinner
profile a-d (fixed seeds), the 3 real pairs, and the first 150 plain rows of
the PPS dev CSV. Its hash is pinned in ``gate_floors.json`` so the floors
always refer to the same data. Lowering a floor is a deliberate, visible
commit (``unspin bench gate --pin`` rewrites the file from a real run, and
loosens no bound without ``--loosen``).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from unspin.evaluation import harness
from unspin.text.tokenize import tokenize
from unspin.types import Analysis, Candidate, Edit, Span

FLOORS = json.loads((Path(__file__).with_name("gate_floors.json")).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def gate_slice() -> harness.GateSlice:
    return harness.gate_slice()  # fails loudly (DataMissingError) without ../shared/data


def _pinned() -> None:
    missing = [k for sect in ("floors", "ceilings") for k, v in FLOORS[sect].items() if v is None]
    if missing:
        pytest.fail(f"gate floors not pinned yet ({', '.join(missing)}): TODO run "
                    "`python -m unspin.cli.bench bench gate --pin` and commit gate_floors.json")


def test_slice_hash_is_pinned(gate_slice: harness.GateSlice) -> None:
    assert len(gate_slice.items) == 4 * harness.GATE_PER_PROFILE + 3
    assert gate_slice.hash == FLOORS["slice_hash"], (
        "the gate slice changed; re-pin the floors deliberately (bench gate --pin)")


def test_core_meets_floors(gate_slice: harness.GateSlice) -> None:
    _pinned()
    measured = harness.run_gate(harness.gate_restorer(), gate_slice)
    failures = harness.check_floors(measured, FLOORS)
    assert not failures, "\n".join(failures)


@pytest.mark.engine
@pytest.mark.parametrize("tier", ["neural", "shipped"])
def test_accurate_tier_meets_its_floors(gate_slice: harness.GateSlice, tier: str) -> None:
    """The accurate tier has floors of its own, with the newsroom n-gram model
    (``neural`` in gate_floors.json) and with nothing but what ships
    (``shipped``: the default n-gram model)."""
    spec = FLOORS.get(tier)
    if not spec or any(v is None for sect in ("floors", "ceilings")
                       for v in spec.get(sect, {}).values()):
        pytest.fail(f"{tier} floors not pinned: run `unspin bench gate --tier {tier} "
                    "--pin` and commit gate_floors.json")
    measured = harness.run_gate(harness.gate_restorer(tier), gate_slice)
    failures = harness.check_floors(measured, spec)
    assert not failures, "\n".join(failures)


def _random_changer(text: str) -> Analysis:
    """Broken restorer: flags every fifth word and replaces it with a random word."""
    rng = random.Random(len(text))
    pool = ("banana", "quickly", "the", "seven", "blue")
    edits, spans, pieces, last = [], [], [], 0
    for i, tok in enumerate(t for t in tokenize(text) if t.is_word):
        if i % 5:
            continue
        new = rng.choice(pool)
        spans.append(Span(tok.start, tok.end, tok.text, new, 0.9,
                          (Candidate(new, 0.0, 1.0, ("broken",)),)))
        edits.append(Edit(tok.start, tok.end, tok.text, new, "broken", 0.9))
        pieces += [text[last : tok.start], new]
        last = tok.end
    pieces.append(text[last:])
    return Analysis(text, 1.0, True, "".join(pieces), tuple(spans), tuple(edits), "broken")


def _flags_nothing(text: str) -> Analysis:
    return Analysis(text, 0.0, False, text, (), (), "broken")


@pytest.mark.parametrize("broken", [_random_changer, _flags_nothing], ids=["random", "nothing"])
def test_gate_fails_for_broken_restorer(gate_slice: harness.GateSlice, broken: harness.Restorer
                                        ) -> None:
    _pinned()
    failures = harness.check_floors(harness.run_gate(broken, gate_slice), FLOORS)
    assert failures, "the gate passed a deliberately broken restorer"
    assert not any("not pinned" in f for f in failures)


def _measured(span: float, exact: float, fp: float, fcr: float) -> dict[str, float]:
    return {"span_f1": span, "restoration_exact": exact, "fingerprint_top1": fp,
            "false_change_rate": fcr}


def _block() -> dict[str, Any]:
    return {"floors": {"span_f1": 0.70, "restoration_exact": 0.40, "fingerprint_top1": 0.05},
            "ceilings": {"false_change_rate": 0.02}}


def test_pin_tightens_bounds_when_the_measurement_improves() -> None:
    block = _block()
    notes = harness.pin_floors(block, _measured(0.80, 0.50, 0.10, 0.005))
    assert notes == []
    assert block["floors"] == {"span_f1": 0.77, "restoration_exact": 0.47,
                               "fingerprint_top1": 0.07}
    assert block["ceilings"] == {"false_change_rate": 0.015}


def test_pin_never_loosens_a_bound_unless_told_to() -> None:
    """A ratchet: a worse measurement that still clears the old bounds keeps them;
    one that misses a bound is reported as failing (the CLI then writes nothing)."""
    block = _block()
    notes = harness.pin_floors(block, _measured(0.72, 0.39, 0.06, 0.015))
    assert block["floors"] == _block()["floors"]  # 0.69, 0.36, 0.03 would be looser
    assert block["ceilings"] == _block()["ceilings"]  # 0.025 would be looser
    assert len(notes) == 4
    assert [n for n in notes if n.startswith("FAILS")] == [
        n for n in notes if "restoration_exact" in n]  # 0.39 < its floor 0.40
    loosened = _block()
    assert harness.pin_floors(loosened, _measured(0.72, 0.39, 0.06, 0.015), loosen=True) == []
    assert loosened["floors"] == {"span_f1": 0.69, "restoration_exact": 0.36,
                                  "fingerprint_top1": 0.03}
    assert loosened["ceilings"] == {"false_change_rate": 0.025}


def test_pin_of_a_new_block_leaves_floors_that_could_not_fail_unpinned() -> None:
    block: dict[str, Any] = {"ceilings": {"false_change_rate": None}}
    assert harness.pin_floors(block, _measured(0.50, 0.20, 0.02, 0.004)) == []
    assert block["floors"] == {"span_f1": 0.47, "restoration_exact": 0.17}
    assert "fingerprint_top1" in block["unpinned"]
    assert block["ceilings"] == {"false_change_rate": 0.014}
