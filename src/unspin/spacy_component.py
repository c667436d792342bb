"""A spaCy pipeline component: ``nlp.add_pipe("unspin")``.

A thin adapter over :func:`unspin.check`: it analyses ``doc.text`` and maps
the result onto the Doc. It needs the ``spacy`` package (any pipeline,
including ``spacy.blank("en")``; no model download).

* ``doc.spans["unspin"]``: one :class:`spacy.tokens.Span` per flagged span,
  label ``SPUN``, with ``span._.unspin_restored`` (the restored wording) and
  ``span._.unspin_confidence`` (its calibrated confidence);
* ``doc._.unspin_score``: the document's calibrated P(spun);
* ``doc._.unspin_spun``: whether that clears ``Config.doc_threshold``.

unspin's offsets are Python ``str`` indices, like spaCy's, so they map with
``doc.char_span(start, end, alignment_mode="expand")``: when spaCy's tokens
are coarser than unspin's (e.g. a span inside a hyphenated token), the spaCy
span grows to whole tokens, and ``span._.unspin_restored`` still refers to
the characters unspin flagged.

Registration: importing this module registers the ``unspin`` factory. It is
also exposed as a ``spacy_factories`` entry point, so ``nlp.add_pipe("unspin")``
works without the import once unspin is installed. ``import unspin`` itself
never imports spaCy. Example::

    import spacy
    import unspin.spacy_component  # noqa: F401  (explicit registration)

    nlp = spacy.blank("en")
    nlp.add_pipe("unspin", config={"mode": "full"})
    doc = nlp("The dying toll rose to 68, the ministry stated.")
    [(s.text, s._.unspin_restored) for s in doc.spans["unspin"]]
"""

from __future__ import annotations

from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, Span

from unspin.config import Config

SPANS_KEY = "unspin"
LABEL = "SPUN"

for _name in ("unspin_restored", "unspin_confidence"):
    if not Span.has_extension(_name):
        Span.set_extension(_name, default=None)
for _name in ("unspin_score", "unspin_spun"):
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, default=None)


class UnspinComponent:
    """Calls :func:`unspin.check` on each Doc and records the flagged spans."""

    def __init__(self, name: str = "unspin", mode: str = "full",
                 options: dict[str, Any] | None = None) -> None:
        self.name = name
        #: Built (and validated) once: a bad mode or option fails at add_pipe.
        self.config = Config().merged(mode=mode, **(options or {}))

    def __call__(self, doc: Doc) -> Doc:
        from unspin.core import analyze

        analysis = analyze(doc.text, self.config)
        spans: list[Span] = []
        for flagged in analysis.spans:
            span = doc.char_span(flagged.start, flagged.end, label=LABEL,
                                 alignment_mode="expand")
            if span is None:  # only possible for offsets in trailing whitespace
                continue
            span._.unspin_restored = flagged.restored
            span._.unspin_confidence = flagged.confidence
            spans.append(span)
        doc.spans[SPANS_KEY] = spans
        doc._.unspin_score = analysis.score
        doc._.unspin_spun = analysis.spun
        return doc


@Language.factory("unspin", default_config={"mode": "full", "options": {}})
def make_unspin(nlp: Language, name: str, mode: str,
                options: dict[str, Any]) -> UnspinComponent:
    """spaCy factory. ``mode`` is ``full`` or ``screen``; ``options`` are any
    other :class:`~unspin.config.Config` fields (e.g. ``{"favor_precision": true}``)."""
    return UnspinComponent(name, mode, options)
