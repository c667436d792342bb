"""The spaCy component: ``nlp.add_pipe("unspin")`` on ``spacy.blank("en")``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import spacy  # the [spacy] extra; CI installs it, so this fails rather than skips

import unspin
import unspin.spacy_component  # explicit registration of the "unspin" factory
from unspin.types import Analysis, Candidate, Edit, Span

SPUN = "The dying toll rose to 68, the ministry stated."
#: The core is being tuned; the agreement test needs at least one of these flagged.
DEMO_TEXTS = (SPUN, "The dying toll rose to 68 on Saturday, the ministry said.",
              "A spokesman stated the dying toll rose to 68.",
              "Officers talked about that 183 other folks have been cured and discharged.")


@pytest.fixture(scope="module")
def newsroom_lm(shared_data: Path) -> str:
    from unspin.evaluation.harness import ensure_ngram

    return str(ensure_ngram())


@pytest.fixture(scope="module")
def nlp(newsroom_lm: str) -> object:
    pipeline = spacy.blank("en")
    pipeline.add_pipe("unspin", config={"options": {"ngram_path": newsroom_lm}})
    return pipeline


def _fixed_analysis(text: str) -> Analysis:
    """A known analysis of ``text``: 'dying' (4-9) -> 'death', 'stated' -> 'said'."""
    start = text.index("dying")
    said = text.index("stated")
    spans = (
        Span(start, start + 5, "dying", "death", 0.93,
             (Candidate("death", -1.0, 0.93, ("moby",)),)),
        Span(said, said + 6, "stated", "said", 0.71, (Candidate("said", -1.0, 0.71, ("moby",)),)),
    )
    edits = tuple(Edit(s.start, s.end, s.text, s.restored, "moby", s.confidence) for s in spans)
    restored = unspin.apply_edits(text, edits)
    return Analysis(text, 0.97, True, restored, spans, edits, "full")


def test_mapping_onto_the_doc(monkeypatch: pytest.MonkeyPatch) -> None:
    import unspin.core

    monkeypatch.setattr(unspin.core, "analyze", lambda text, config: _fixed_analysis(text))
    pipeline = spacy.blank("en")
    pipeline.add_pipe("unspin")
    doc = pipeline(SPUN)
    spans = list(doc.spans["unspin"])
    assert [(s.text, s.label_, s._.unspin_restored, s._.unspin_confidence) for s in spans] == [
        ("dying", "SPUN", "death", 0.93), ("stated", "SPUN", "said", 0.71)]
    assert doc._.unspin_score == 0.97 and doc._.unspin_spun is True
    # A flagged span inside a spaCy token: alignment_mode="expand" grows it to the token.
    doc = pipeline("The undying toll rose to 68, the ministry stated.")
    assert [(s.text, s._.unspin_restored) for s in doc.spans["unspin"]] == [
        ("undying", "death"), ("stated", "said")]


def test_spans_and_extensions_match_the_core(nlp: object, newsroom_lm: str) -> None:
    flagged_somewhere = False
    for text in DEMO_TEXTS:
        doc = nlp(text)  # type: ignore[operator]
        analysis = unspin.check(text, ngram_path=newsroom_lm)
        flagged_somewhere |= bool(analysis.spans)
        spans = list(doc.spans["unspin"])
        assert len(spans) == len(analysis.spans)
        for span, flagged in zip(spans, analysis.spans, strict=True):
            assert span.label_ == "SPUN"
            assert (span.start_char, span.end_char) == (flagged.start, flagged.end)
            assert span._.unspin_restored == flagged.restored
            assert span._.unspin_confidence == pytest.approx(flagged.confidence)
        assert doc._.unspin_score == pytest.approx(analysis.score)
        assert doc._.unspin_spun is analysis.spun
    assert flagged_somewhere, f"the core flags none of {DEMO_TEXTS}"


def test_clean_text_has_no_spans_and_a_score(nlp: object, newsroom_lm: str) -> None:
    doc = nlp("The committee approved the budget on Tuesday.")  # type: ignore[operator]
    analysis = unspin.check(doc.text, ngram_path=newsroom_lm)
    assert not analysis.spans
    assert len(doc.spans["unspin"]) == len(analysis.spans)
    assert doc._.unspin_score == pytest.approx(analysis.score)


def test_config_mode_and_options_are_validated() -> None:
    pipeline = spacy.blank("en")
    pipe = pipeline.add_pipe("unspin", config={"mode": "screen",
                                              "options": {"favor_precision": True}})
    assert isinstance(pipe, unspin.spacy_component.UnspinComponent)
    assert pipe.config.mode == "screen" and pipe.config.favor_precision
    doc = pipeline(SPUN)
    assert doc._.unspin_score == pytest.approx(
        unspin.check(SPUN, mode="screen", favor_precision=True).score)
    with pytest.raises(ValueError, match="mode must be one of"):
        spacy.blank("en").add_pipe("unspin", config={"mode": "fast"})
    with pytest.raises(ValueError, match="unknown option"):
        spacy.blank("en").add_pipe("unspin", config={"options": {"bogus": 1}})


def test_pipe_over_many_docs(nlp: object, newsroom_lm: str) -> None:
    texts = [SPUN, "A spokesman stated the dying toll rose.", "Nothing to see here."]
    docs = list(nlp.pipe(texts))  # type: ignore[attr-defined]
    for doc, text in zip(docs, texts, strict=True):
        assert len(doc.spans["unspin"]) == len(unspin.check(text, ngram_path=newsroom_lm).spans)


def test_import_unspin_does_not_import_spacy_or_fastapi() -> None:
    code = ("import sys, unspin; print(sorted(m for m in ('spacy', 'fastapi', 'thinc', "
            "'uvicorn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
