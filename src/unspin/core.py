"""The pure, per-document core: ``analyze(text, config) -> Analysis``.

Everything at scale (CLI, service, local scan, Spark) is this function mapped
over records. It validates the input, splits it into sentences, decodes each
sentence over the candidate lattice, keeps the substitutions whose posterior
clears the flag threshold, and turns them into spans, replayable edits and a
calibrated document score.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from unspin.config import Config
from unspin.decode.lattice import Decision, Edge, SentenceDecoder, word_view
from unspin.decode.score import document_features
from unspin.errors import InputError
from unspin.resources.bundle import Bundle, get_bundle
from unspin.text.morph import transfer_case
from unspin.text.sentences import split_sentences
from unspin.text.tokenize import Token, tokenize
from unspin.types import Analysis, Candidate, Edit, Evidence, Span

#: Screen mode asks for this much more surprise (natural log) than full mode
#: before it proposes candidates: fewer positions, faster, lower recall.
SCREEN_MARGIN = 2.0


def validate_text(text: object, max_chars: int) -> str:
    """Return ``text`` if it can be analysed, else raise a teaching InputError."""
    if isinstance(text, bytes | bytearray | memoryview):
        raise InputError(
            "got bytes, expected str: decode first, e.g. data.decode('utf-8') "
            "(or use `unspin check FILE`, which detects the encoding)"
        )
    if not isinstance(text, str):
        raise InputError(f"expected a str, got {type(text).__name__}")
    if len(text) > max_chars:
        raise InputError(
            f"input has {len(text):,} characters, over the cap of {max_chars:,}; "
            "split it, or raise Config.max_chars"
        )
    if not text.strip():
        raise InputError("input is empty (or only whitespace): nothing to analyse")
    sample = text[:4096]
    if "\x00" in sample:
        raise InputError("input contains NUL bytes: it looks binary, not text")
    controls = sum(1 for c in sample if ord(c) < 32 and c not in "\n\r\t\f\v")
    if controls > max(8, len(sample) // 10):
        raise InputError("input is mostly control characters: it looks binary, not text")
    return text


def _decoder(bundle: Bundle, config: Config) -> SentenceDecoder:
    return SentenceDecoder(bundle.lm, bundle.generator, bundle.channel, config.channel_weight,
                           config.beam, config.max_span_tokens, config.max_candidates)


def _span_from(text: str, toks: Sequence[Token], d: Decision, threshold: float,
               lm_name: str) -> Span | None:
    if d.p_changed < threshold:
        return None
    start, end = toks[d.i].start, toks[d.j - 1].end
    spun = text[start:end]
    assert d.chosen.proposal is not None
    candidates = []
    for alt in d.alternatives[:6]:
        if alt.edge.proposal is None:
            cand_text, sources = spun, ("spun",)
        else:
            cand_text = transfer_case(spun, alt.edge.proposal.text)
            sources = alt.edge.proposal.sources
        candidates.append(Candidate(cand_text, alt.score, alt.posterior, tuple(sources),
                                    alt.lm, alt.edge.channel))
    chosen = transfer_case(spun, d.chosen.proposal.text)
    keep = next(a for a in d.alternatives if a.edge.proposal is None)
    best = next(a for a in d.alternatives if a.edge is d.chosen)
    evidence = (
        Evidence("channel", d.chosen.proposal.detail, d.chosen.channel),
        Evidence("lm", f"{lm_name}: '{chosen}' scores {best.lm - keep.lm:+.2f} nats over "
                       f"'{spun}' in context", best.lm - keep.lm),
    )
    return Span(start, end, spun, chosen, d.p_changed, tuple(candidates), evidence,
                listed="fingerprints" in d.chosen.proposal.sources)


def analyze(text: str, config: Config) -> Analysis:
    t0 = time.perf_counter()
    validate_text(text, config.max_chars)
    bundle = get_bundle(config)
    t1 = time.perf_counter()
    decoder = _decoder(bundle, config)
    threshold = config.effective_flag_threshold
    tokens = tokenize(text)
    n_words = 0
    work: list[tuple[list[Token], list[str], list[list[Edge]]]] = []
    for sentence in split_sentences(text, tokens):
        toks, adjacent, protected = word_view(sentence, bundle.is_common)
        if not toks:
            continue
        n_words += len(toks)
        words = [t.norm for t in toks]
        surprise = config.surprise_threshold
        if config.mode == "screen":
            surprise -= SCREEN_MARGIN
        positions = decoder.suspicious(words, surprise)
        if not positions:
            continue
        work.append((toks, words, decoder.build_edges(words, adjacent, protected, positions)))
    spinnable = sum(1 for _, _, edges in work for e in edges if len(e) > 1)

    # Pass 1 at the prior spin rate; pass 2 at the document's own estimate.
    rate = bundle.channel.p_sub
    decisions = [decoder.decode(words, edges) for _, words, edges in work]
    expected = sum(d.p_changed for ds in decisions for d in ds)
    new_rate = bundle.channel.spin_rate(expected, spinnable)
    if abs(new_rate - rate) > 0.25 * rate:
        rate = new_rate
        decoder.set_rate(rate)
        work = [(toks, words, decoder.rebase(edges, bundle.channel.p_sub))
                for toks, words, edges in work]
        decisions = [decoder.decode(words, edges) for _, words, edges in work]
    spans: list[Span] = []
    for (toks, _, _), ds in zip(work, decisions, strict=True):
        for d in ds:
            span = _span_from(text, toks, d, threshold, bundle.lm_name)
            if span is not None:
                spans.append(span)
    t2 = time.perf_counter()
    edits = tuple(
        Edit(s.start, s.end, s.text, s.restored, source="+".join(s.candidates[0].sources)
             if s.candidates else "", confidence=s.confidence)
        for s in spans
    )
    restored = apply_edits(text, edits)
    features = document_features(n_words, [s.confidence for s in spans])
    score = bundle.calibration.probability(features)
    return Analysis(
        text=text,
        score=score,
        spun=score >= config.doc_threshold,
        restored_text=restored,
        spans=tuple(spans),
        edits=edits,
        mode=config.mode,
        features={**features, "spin_rate": rate},
        timings={"load_s": t1 - t0, "decode_s": t2 - t1},
    )


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    """Replay ``edits`` on ``text``; checks each edit's ``old`` matches."""
    out: list[str] = []
    pos = 0
    for e in sorted(edits, key=lambda e: e.start):
        if e.kind != "replace":
            raise ValueError(f"unknown edit kind {e.kind!r}; valid: replace")
        if e.start < pos or e.end < e.start or e.end > len(text):
            raise ValueError(f"edit [{e.start}, {e.end}) overlaps or is out of range")
        if text[e.start : e.end] != e.old:
            raise ValueError(
                f"edit [{e.start}, {e.end}) expects {e.old!r} but the text has "
                f"{text[e.start:e.end]!r}: apply edits to the text they were made for"
            )
        out.append(text[pos : e.start])
        out.append(e.new)
        pos = e.end
    out.append(text[pos:])
    return "".join(out)
