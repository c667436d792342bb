"""Example-driven cases (schema in tests/cases/README.md).

Every case also checks the invariants that hold for any input: offsets index
the exact text, and replaying the edits gives ``restored_text``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import unspin

CASES = Path(__file__).parent / "cases"
KINDS = ("in-the-wild", "synthetic", "negative", "known-failures")


def _load(kind: str) -> list[dict[str, Any]]:
    doc = json.loads((CASES / f"{kind}.json").read_text(encoding="utf-8"))
    assert doc["schema"] == "unspin.cases/1"
    return list(doc["cases"])


def _params() -> list[Any]:
    out = []
    for kind in KINDS:
        for case in _load(kind):
            marks = [pytest.mark.xfail(strict=True, reason=case.get("note", ""))] \
                if kind == "known-failures" else []
            out.append(pytest.param(kind, case, id=f"{kind}:{case['id']}", marks=marks))
    return out


def _text(case: dict[str, Any], shared_data: Path) -> str:
    if "text" in case:
        return str(case["text"])
    data = json.loads((shared_data / case["source"]).read_text(encoding="utf-8"))
    return str(data[case.get("field", "spun_text")])


@pytest.fixture(scope="session")
def newsroom_lm(shared_data: Path) -> str:
    """The n-gram model a newsroom would build from its archive: the TRAIN split
    of ../shared/data, built once per machine into the bench cache (~2 min)."""
    from unspin.evaluation.harness import ensure_ngram

    return str(ensure_ngram())


@pytest.mark.parametrize(("kind", "case"), _params())
def test_case(kind: str, case: dict[str, Any], shared_data: Path,
              request: pytest.FixtureRequest) -> None:
    text = _text(case, shared_data)
    lm = case.get("config", {}).get("lm")
    if lm not in (None, "newsroom"):
        raise ValueError(f"case {case['id']}: config.lm must be 'newsroom' or absent")
    scorer = case.get("config", {}).get("scorer", "ngram")
    if scorer not in ("ngram", "neural"):
        raise ValueError(f"case {case['id']}: config.scorer must be 'ngram' or 'neural'")
    ngram = request.getfixturevalue("newsroom_lm") if lm == "newsroom" else None
    a = unspin.check(text, ngram_path=ngram, scorer=scorer)
    # invariants
    assert unspin.apply_edits(text, a.edits) == a.restored_text
    for s in a.spans:
        assert text[s.start : s.end] == s.text
    expect = case["expect"]
    if "spun" in expect:
        assert a.spun is expect["spun"], f"score {a.score:.3f}"
    if "score_below" in expect:
        assert a.score < expect["score_below"], f"score {a.score:.3f}"
    if "score_above" in expect:
        assert a.score > expect["score_above"], f"score {a.score:.3f}"
    if expect.get("no_flags"):
        assert not a.spans, [(s.text, s.restored, round(s.confidence, 3)) for s in a.spans]
    flagged = {s.text.lower(): s.restored.lower() for s in a.spans}
    for phrase in expect.get("flags", []):
        assert phrase.lower() in flagged, flagged
    for spun, original in expect.get("restore", []):
        assert flagged.get(spun.lower()) == original.lower(), flagged
    for word in expect.get("keep", []):
        start = text.index(word)
        hits = [s for s in a.spans if s.start < start + len(word) and s.end > start]
        assert not hits, [(s.text, s.restored, round(s.confidence, 3)) for s in hits]


def test_case_ids_are_unique() -> None:
    ids = [c["id"] for kind in KINDS for c in _load(kind)]
    assert len(ids) == len(set(ids))
