"""The pure, per-document core: ``analyze(text, config) -> Analysis``.

Everything at scale (CLI, service, local scan, Spark) is this function mapped
over records. It validates the input, splits it into sentences, decodes each
sentence over the candidate lattice, keeps the substitutions whose posterior
clears the flag threshold, and turns them into spans, replayable edits and a
calibrated document score.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from unspin.config import Config
from unspin.decode import rescore as rescoring
from unspin.decode.lattice import Decision, Edge, SentenceDecoder, word_view
from unspin.decode.score import document_features, span_model_features
from unspin.decode.spanmodel import clip_logit
from unspin.errors import InputError
from unspin.resources.bundle import Bundle, get_bundle
from unspin.resources.thesauri import THESAURI
from unspin.text.morph import transfer_case
from unspin.text.sentences import split_sentences
from unspin.text.tokenize import Token, tokenize
from unspin.types import Analysis, Candidate, Edit, Evidence, Span

if TYPE_CHECKING:
    from unspin.decode.rescore import RankingRow, Scored
    from unspin.fingerprints.signatures import SignatureHit

#: Screen mode asks for this much more surprise (natural log) than full mode
#: before it proposes candidates: fewer positions, faster, lower recall.
SCREEN_MARGIN = 2.0
#: Screen mode examines at most this share of a sentence's words (the most
#: surprising ones), so its cost per word is bounded on any text.
SCREEN_BUDGET = 0.15
#: Suspects reported per text (``Analysis.suspects``), the likeliest first: a
#: review list, not a second set of flags.
MAX_SUSPECTS = 10


#: C0 controls other than \t \n \v \f \r, counted by one C-level scan: a
#: Python generator over the 4096-character sample took about 0.18 ms per
#: document, a few per cent of screen mode on news-length texts.
_CONTROLS = re.compile("[\x00-\x08\x0e-\x1f]")


def require_unicode(text: str) -> None:
    """Lone UTF-16 surrogates (from JSON ``"\ud800"`` or a bad decoder) are not text."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InputError(
            f"input has a lone surrogate (U+{ord(text[exc.start]):04X}) at character "
            f"{exc.start}: it is not valid Unicode text"
        ) from None


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
    require_unicode(text)
    sample = text[:4096]
    if "\x00" in sample:
        raise InputError("input contains NUL bytes: it looks binary, not text")
    controls = len(_CONTROLS.findall(sample))
    if controls > max(8, len(sample) // 10):
        raise InputError("input is mostly control characters: it looks binary, not text")
    return text


def _decoder(bundle: Bundle, config: Config) -> SentenceDecoder:
    # LM proposals are a full-mode source: screen mode is the fast first pass,
    # and a gap filler at every surprising word would cost it both speed and
    # precision (measured in BENCHMARKS.md).
    fill = bundle.fill if config.mode == "full" else None
    return SentenceDecoder(bundle.lm, bundle.generator, bundle.channel, config.channel_weight,
                           config.beam, config.max_span_tokens, config.max_candidates, fill,
                           screen=config.mode == "screen")


def _decision_features(d: Decision, toks: Sequence[Token], lps: Sequence[float],
                       bundle: Bundle, doc: dict[str, float]) -> dict[str, float]:
    p = d.chosen.proposal
    assert p is not None
    keep = next(a for a in d.alternatives if a.edge.proposal is None)
    best = next(a for a in d.alternatives if a.edge is d.chosen)
    spun_words = [t.norm for t in toks[d.i : d.j]]
    uni = bundle.lm.unigram_logprob
    subs = sorted((a.posterior for a in d.alternatives if a.edge.proposal is not None),
                  reverse=True)
    inverse = bundle.generator.inverse
    fanin = inverse.count(" ".join(spun_words)) if inverse is not None else 0
    return {
        "nc_logit": clip_logit(d.p_changed),
        "lm_gain": best.lm - keep.lm,
        "spun_ctx_lp": min(lps[d.i : d.j]),
        "spun_uni_lp": sum(uni(w) for w in spun_words) / len(spun_words),
        "cand_uni_lp": sum(uni(w) for w in p.words) / max(1, len(p.words)),
        "pick": p.channel,
        "n_sources": float(sum(1 for s in p.sources if s in THESAURI)),
        "reverse": float(p.reverse),
        "inflected": float(p.inflected),
        "learned": float("learned" in p.sources),
        "fingerprint": float("fingerprints" in p.sources),
        "lm_only": float(p.sources == ("lm",)),
        "capitalised": float(toks[d.i].text[:1].isupper()),
        "span_len": float(d.j - d.i),
        "cand_len": float(len(p.words)),
        "next_ctx_lp": lps[d.j] if d.j < len(lps) else 0.0,
        "alt_margin": subs[0] - (subs[1] if len(subs) > 1 else 0.0),
        "spun_fanin": math.log1p(fanin),
        "n_alts": math.log1p(len(subs)),
        # the span model weighs a table link differently when a table is loaded
        "learned_table": float(bundle.generator.use_learned),
        **doc,
    }


def _span_from(text: str, toks: Sequence[Token], d: Decision, prob: float,
               feats: dict[str, float], lm_name: str) -> Span:
    start, end = toks[d.i].start, toks[d.j - 1].end
    spun, chosen = d.surface(text, toks)
    assert d.chosen.proposal is not None
    candidates = []
    for alt in d.alternatives[:6]:
        sources: tuple[str, ...]
        if alt.edge.proposal is None:
            cand_text, sources = spun, ("spun",)
        else:
            cand_text = transfer_case(spun, alt.edge.proposal.text)
            sources = alt.edge.proposal.sources
        candidates.append(Candidate(cand_text, alt.score, alt.posterior, tuple(sources),
                                    alt.lm, alt.edge.channel))
    # The scores below were read for the ranker's choice; the next words may
    # have re-chosen since (the last evidence line says so).
    first = rescoring.first_choice(d, feats)
    assert first.edge.proposal is not None
    ranked = transfer_case(spun, first.edge.proposal.text)
    evidence: tuple[Evidence, ...] = (
        Evidence("channel", d.chosen.proposal.detail, d.chosen.proposal.channel),
        Evidence("lm", f"{lm_name}: '{ranked}' scores {feats['lm_gain']:+.2f} nats over "
                       f"'{spun}' in context", feats["lm_gain"]),
        Evidence("posterior", f"noisy-channel P(changed) = {d.p_changed:.3f}; "
                              f"P(document spun) x P(span | spun) = {prob:.3f}", d.p_changed),
    )
    if "nn_gain" in feats:  # the accurate tier's single neural pass
        read = ("given everything before it and read with the next words (a collocation, "
                "decode/rescore.py)" if feats.get("nn_pair") else
                "given everything before it (first token)")
        evidence += (Evidence(
            "neural", f"SmolLM2-135M: '{ranked}' scores {feats['nn_gain']:+.2f} nats over "
                      f"'{spun}' {read}", feats["nn_gain"]),)
        given = first.posterior / d.p_changed if d.p_changed > 0 else 0.0
        n_subs = sum(1 for a in d.alternatives if a.edge.proposal is not None)
        close = (f"; closeness in meaning to '{spun}' {feats['similarity']:.2f}"
                 if "similarity" in feats else "")
        evidence += (Evidence(
            "ranker", f"P('{ranked}' | substituted) = {given:.3f} among {n_subs} candidates "
                      f"(n-gram, channel and neural scores{close}; decode/rerank.py)",
            given),)
    if "nn_cont_gain" in feats:  # its continuation check
        evidence += (Evidence(
            "continuation", f"SmolLM2-135M: '{ranked}' and the next words score "
                            f"{feats['nn_cont_gain']:+.2f} nats over '{spun}' and the same "
                            f"words; P(span | spun) {feats['span_given_first_pass']:.3f} "
                            "before this check", feats["nn_cont_gain"]),)
        if "nn_choice_gain" in feats:  # the check re-chose the original
            evidence += (Evidence(
                "ranker", f"re-chosen with the next words: '{chosen}' scores "
                          f"{feats['nn_choice_gain']:+.2f} nats over '{spun}' against "
                          f"{feats['nn_cont_gain']:+.2f} for '{ranked}'; log posterior + "
                          f"{rescoring.CHOICE_WEIGHT:g} x gain is highest for '{chosen}' "
                          f"of the {rescoring.CHOICE_READINGS} likeliest substitutions "
                          "(decode/rescore.py)",
                feats["nn_choice_gain"]),)
    return Span(start, end, spun, chosen, prob, tuple(candidates), evidence,
                listed="fingerprints" in d.chosen.proposal.sources)


def _word_originals(d: Decision, toks: Sequence[Token]) -> list[tuple[Token, str]] | None:
    """Each spun word of a collocation decision with its original; None for
    any other decision. A collocation stands for one substitution per word
    (``Proposal.subs``), so it is reported, fitted and counted per word."""
    p = d.chosen.proposal
    assert p is not None
    return None if p.subs == 1 else list(zip(toks[d.i : d.j], p.words, strict=True))


def _word_spans(text: str, toks: Sequence[Token], d: Decision, span: Span) -> list[Span]:
    """A collocation restored as one term, reported as the substitutions it was.

    A spinner replaces a collocation word by word ("oil prices" -> "petroleum
    sopranos"), so each spun word becomes a span of its own with its own
    original, both carrying the decision's confidence and evidence. Each
    word's candidates are the matching word of every collocation (and the
    spun word) among the decision's alternatives, best posterior first.
    Any other decision comes back as the one span it is.
    """
    words = _word_originals(d, toks)
    if words is None:
        return [span]
    out: list[Span] = []
    for k, (tok, original) in enumerate(words):
        spun = text[tok.start : tok.end]
        seen: dict[str, Candidate] = {}
        for alt, cand in zip(d.alternatives, span.candidates, strict=False):
            p = alt.edge.proposal
            if p is None:
                word, sources = spun, cand.sources
            elif p.subs > 1:  # another collocation of the same two words
                word, sources = transfer_case(spun, p.words[k]), p.word_sources[k]
            else:
                continue  # a phrase for the two words together has no word of its own
            if word.lower() not in seen:
                seen[word.lower()] = replace(cand, text=word, sources=sources)
        out.append(replace(span, start=tok.start, end=tok.end, text=spun,
                           restored=transfer_case(spun, original),
                           candidates=tuple(seen.values())))
    return out


def analyze(text: str, config: Config, *, collect: list[Any] | None = None,
            ranking: list[RankingRow] | None = None) -> Analysis:
    """Analyse one text. ``collect``, if given, receives every decision's features
    (flagged or not) as ``(start, end, restored, features)``, a collocation once per
    word, as it is reported; ``ranking`` (accurate
    tier) each decision's candidates and ranking features. The model-fitting
    scripts use them, nothing else does."""
    t0 = time.perf_counter()
    validate_text(text, config.max_chars)
    bundle = get_bundle(config)
    t1 = time.perf_counter()
    decoder = _decoder(bundle, config)
    tokens = tokenize(text)
    n_words = 0
    n_surprising = 0
    surprise = config.surprise_threshold
    budget = None
    if config.mode == "screen":
        surprise -= SCREEN_MARGIN
        budget = SCREEN_BUDGET
    work: list[tuple[list[Token], list[str], list[float], list[list[Edge]]]] = []
    breaks: list[int] = []
    for sentence in split_sentences(text, tokens):
        if sentence:
            breaks.append(sentence[0].start)
        toks, adjacent, protected = word_view(sentence, bundle.is_common)
        if not toks:
            continue
        n_words += len(toks)
        words = [t.norm for t in toks]
        lps = bundle.lm.token_logprobs(words)
        positions = decoder.suspicious(lps, len(words), surprise, budget)
        n_surprising += len(positions)
        if not positions:
            continue
        work.append((toks, words, lps, decoder.build_edges(words, adjacent, protected,
                                                           positions)))
    spinnable = sum(1 for *_, edges in work for e in edges if len(e) > 1)

    # Pass 1 at the prior spin rate; pass 2 at the document's own estimate.
    # Screen mode decides each position locally and makes one pass.
    rate = bundle.channel.p_sub
    screen = config.mode == "screen"
    decide = decoder.local_decisions if screen else decoder.decode
    decisions = [decide(words, edges) for _, words, _, edges in work]
    expected = sum(d.p_changed for ds in decisions for d in ds)
    new_rate = bundle.channel.spin_rate(expected, spinnable)
    if screen:
        rate = new_rate
    elif abs(new_rate - rate) > 0.25 * rate:
        rate = new_rate
        decoder.set_rate(rate)
        work = [(toks, words, lps, decoder.rebase(edges))
                for toks, words, lps, edges in work]
        decisions = [decoder.decode(words, edges) for _, words, _, edges in work]
    doc = {"doc_surprise": n_surprising / max(1, n_words), "doc_rate": rate}
    # The accurate tier: one neural pass re-ranks every decision and adds its
    # own span and document features, scored by models fitted for that tier.
    tier = "neural" if config.scorer == "neural" and not screen else config.mode
    nn_feats: dict[tuple[int, int], dict[str, float]] = {}
    rescored: Any = None
    neural_lm: Any = None
    reopened: set[tuple[int, int]] = set()
    if tier == "neural":
        from unspin.lm.neural import get_neural_lm
        from unspin.resources.similarity import get_similarity

        # Positions the n-gram path kept are reopened: the neural model reads
        # the whole left context and may disagree (with a weak n-gram model,
        # most substitutions are kept by the first pass).
        for si, ((_, words, _, edges), ds) in enumerate(zip(work, decisions, strict=True)):
            more = decoder.local_decisions(words, edges, kept=True,
                                           taken=[(d.i, d.j) for d in ds])
            if more:
                merged = sorted([*ds, *more], key=lambda d: d.i)
                new_ids = {id(d) for d in more}
                reopened.update((si, k) for k, d in enumerate(merged) if id(d) in new_ids)
                decisions[si] = merged
        neural_lm = get_neural_lm(precision=config.neural_precision)
        index = bundle.generator.inverse
        rescored = rescoring.rescore(
            text, [(toks, ds) for (toks, *_), ds in zip(work, decisions, strict=True)],
            neural_lm, config.channel_weight,
            bundle.generator if bundle.generator.use_lm else None, breaks, bundle.ranker,
            ranking, None if index is None else get_similarity(str(index.path), config.cache_dir),
            bundle.generator)
        decisions, nn_feats, nn_doc = rescored.decisions, rescored.features, rescored.doc
        doc.update(nn_doc)
        # a collocation replaced two decisions: keys after it moved
        reopened = {(si, di) for si, ds in enumerate(decisions) for di in range(len(ds))
                    if rescored.origin.get((si, di), (si, di)) in reopened}
        for key, feats in nn_feats.items():
            feats["nn_reopened"] = float(key in reopened)
    # Each decision's P(substituted | spun document), then P(document spun), which
    # also reads how many of them the span model believes, then each span's
    # confidence: their product.
    span_model = bundle.span_models[tier]
    scored: list[Scored] = []
    scored_keys: list[tuple[int, int]] = []
    for si, ((toks, _, lps, _), ds) in enumerate(zip(work, decisions, strict=True)):
        for di, d in enumerate(ds):
            if (si, di) in reopened and (si, di) not in nn_feats:
                continue  # a reopened position the neural pass could not score stays kept
            feats = _decision_features(d, toks, lps, bundle, doc)
            feats.update(nn_feats.get((si, di), {}))
            scored.append((span_model.probability(feats), toks, d, feats))
            scored_keys.append((si, di))
    features_cont: dict[str, float] = {}
    verdict: list[Evidence] = []
    checked = tier == "neural" and (bundle.continuation is not None or collect is not None)
    if checked:
        # A second look that reads the words after each candidate, before the
        # document verdict, which reads its answers (fitting runs collect every
        # gain, before a continuation model exists).
        scored = rescoring.continuation_check(text, scored, scored_keys, rescored, neural_lm,
                                              bundle.continuation)
        features_cont = rescoring.continuation_doc_features(scored)
        verdict += _continuation_verdict(text, rescoring.strongest_continuation(scored))
    if collect is not None:  # the ranker's choices, as the models read them
        for _, checked_toks, d, feats in scored:
            assert d.chosen.proposal is not None
            per_word = _word_originals(d, checked_toks)  # a collocation: as it is reported
            if per_word is None:
                collect.append((checked_toks[d.i].start, checked_toks[d.j - 1].end,
                                d.chosen.proposal.text, feats))
            else:
                collect += [(t.start, t.end, w, feats) for t, w in per_word]
    features = document_features(n_words, [d.p_changed for ds in decisions for d in ds])
    features.update(span_model_features(n_words, [given for given, *_ in scored]))
    features.update(features_cont)
    features.update(doc)
    features["spin_rate"] = rate
    score = bundle.calibrations[tier].probability(features)
    signatures = _signature_hits(text)
    if signatures:
        # Spun boilerplate ("Supply hyperlink") is evidence the document model
        # never saw: combined with it as an independent cue (noisy-or), before
        # the spans are weighed, so the rest of a spun autoblog post is flagged too.
        from unspin.fingerprints.signatures import signature_cue

        model_score, cue = score, signature_cue(signatures)
        score = 1.0 - (1.0 - model_score) * (1.0 - cue)
        features["signature_cue"] = cue
        features["doc_model_score"] = model_score
        verdict.append(Evidence(
            "verdict", f"P(spun) {model_score:.3f} from the document model, {score:.3f} with "
                       f"the boilerplate signatures as an independent cue ({cue:.2f})", score))
    listed = _fingerprint_spans(text, bundle.matcher)
    strongest = max((s.confidence for s in listed), default=0.0)
    if strongest > score:
        # A listed fingerprint is itself strong evidence of spinning, and paper
        # mills spin whole texts: the other spans are weighed at that P(spun).
        score = strongest
        verdict.append(Evidence(
            "verdict", f"P(spun) raised to {score:.3f} by a listed fingerprint", score))
    threshold = config.effective_flag_threshold(bundle.operating_points[tier])
    flagged = [k for k, (given, *_) in enumerate(scored) if score * given >= threshold]
    if checked:
        # Which original each flagged span restores, re-chosen with the words
        # after its likeliest substitutions; no flag moves.
        scored = rescoring.rechoose(text, scored, scored_keys, rescored, neural_lm, flagged)
    spans: list[Span] = []
    for k in flagged:
        given, sentence_toks, d, feats = scored[k]
        spans += _word_spans(text, sentence_toks, d,
                             _span_from(text, sentence_toks, d, score * given, feats,
                                        bundle.lm_name))
    # below the threshold only because of the document score (Analysis.suspects)
    near = [k for k, (given, *_) in enumerate(scored)
            if given >= threshold and score * given < threshold]
    listed += [s for s in _signature_spans(signatures) if s.confidence >= threshold]
    if listed:
        spans = _merge_listed(spans, listed)
    doc_evidence, spans = _document_evidence(text, spans, signatures)
    doc_evidence += tuple(verdict)
    picked = _pick_suspects(scored, near, spans)
    if checked and picked:
        # A suspect is listed for review with the best guess too; its readings
        # are a batch of their own, so the flags' are batched as without them.
        scored = rescoring.rechoose(text, scored, scored_keys, rescored, neural_lm, picked)
    suspects = _suspects(text, [scored[k] for k in picked], score, threshold,
                         bundle.lm_name)
    t2 = time.perf_counter()
    # A span flagged without a known original (a listed phrase whose list gives
    # none) changes nothing, so it is not an edit.
    edits = tuple(
        Edit(s.start, s.end, s.text, s.restored, source="+".join(s.candidates[0].sources)
             if s.candidates else "", confidence=s.confidence)
        for s in spans if s.restored != s.text
    )
    restored = apply_edits(text, edits)
    return Analysis(
        text=text,
        score=score,
        spun=score >= config.doc_threshold,
        restored_text=restored,
        spans=tuple(spans),
        edits=edits,
        mode=config.mode,
        features=features,
        evidence=doc_evidence,
        timings={"load_s": t1 - t0, "decode_s": t2 - t1},
        suspects=suspects,
    )


def _continuation_verdict(text: str, best: Scored | None) -> list[Evidence]:
    """Where the document model's strongest continuation gain (``cont_max_gain``)
    came from, so the verdict names the words that moved it."""
    if best is None:
        return []
    _, toks, d, feats = best  # read before any re-choice: d.chosen is what the check read
    spun, candidate = d.surface(text, toks)
    gain = feats["nn_cont_gain"]
    return [Evidence("verdict", f"strongest continuation gain {gain:+.1f} nats: "
                                f"'{candidate}' for '{spun}' with the next words "
                                "(read by the document model)", gain)]


def _overlaps_any(start: int, end: int, spans: Sequence[Span]) -> bool:
    return any(start < s.end and end > s.start for s in spans)


def _signature_hits(text: str) -> list[SignatureHit]:
    """Spinner boilerplate in ``text`` (``fingerprints/signatures.py``)."""
    try:
        from unspin.fingerprints.signatures import find_signatures
    except ImportError:  # the [fingerprints] extra is not installed
        return []
    return find_signatures(text)


def _signature_spans(hits: Sequence[SignatureHit]) -> list[Span]:
    """Each boilerplate hit as a span restored to the string the template had
    ("Supply hyperlink" -> "Source link"), at the signature's weight."""
    out: list[Span] = []
    for hit in _leftmost_longest(hits):
        restored = transfer_case(hit.text, hit.original)
        cands = (Candidate(restored, 0.0, hit.weight, ("signature",)),
                 Candidate(hit.text, 0.0, 1.0 - hit.weight, ("spun",)))
        out.append(Span(hit.start, hit.end, hit.text, restored, hit.weight, cands,
                        (hit.to_evidence(),)))
    return out


class _Located(Protocol):
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...


_Hit = TypeVar("_Hit", bound=_Located)


def _leftmost_longest(hits: Iterable[_Hit]) -> list[_Hit]:
    """Hits (list matches, signatures) that do not overlap an earlier one, the
    longest first where two start together."""
    out: list[_Hit] = []
    last_end = -1
    for hit in sorted(hits, key=lambda h: (h.start, -h.end)):
        if hit.start >= last_end:
            out.append(hit)
            last_end = hit.end
    return out


def _merge_listed(spans: Sequence[Span], listed: Sequence[Span]) -> list[Span]:
    """Model spans and listed fingerprints together.

    A listed phrase with a known original replaces the model's spans it overlaps
    (the fast path). A listed phrase whose list gives no original (PPS marks
    those "???") still says the words are tortured, but it has nothing to
    restore: the model's spans inside it keep their restoration and gain the
    list's evidence, and where the model flagged nothing the phrase is flagged
    unchanged.
    """
    known: list[Span] = []
    for s in listed:  # lists before signatures; the first of two overlapping hits wins
        if s.restored != s.text and not _overlaps_any(s.start, s.end, known):
            known.append(s)
    notes = [s for s in listed if s.restored == s.text]
    out = [s for s in spans if not _overlaps_any(s.start, s.end, known)]
    for note in notes:
        inside = [k for k, s in enumerate(out) if _overlaps_any(s.start, s.end, (note,))]
        for k in inside:
            out[k] = replace(out[k], evidence=(*out[k].evidence, *note.evidence))
        if not inside and not _overlaps_any(note.start, note.end, known):
            out.append(note)
    return sorted([*out, *known], key=lambda s: s.start)


def _pick_suspects(scored: Sequence[Scored], near: Sequence[int],
                   spans: Sequence[Span]) -> list[int]:
    """Which of ``scored`` (indices ``near``: P(span | spun) at the threshold, not
    flagged) become suspects: the ``MAX_SUSPECTS`` likeliest, outside the flagged
    spans and each other."""
    out: list[int] = []
    taken = [(s.start, s.end) for s in spans]
    for k in sorted(near, key=lambda k: -scored[k][0]):
        _, toks, d, _ = scored[k]
        start, end = toks[d.i].start, toks[d.j - 1].end
        if any(start < e and end > b for b, e in taken):
            continue
        out.append(k)
        taken.append((start, end))
        if len(out) == MAX_SUSPECTS:
            break
    return out


def _suspects(text: str, picked: Sequence[Scored], score: float, threshold: float,
              lm_name: str) -> tuple[Span, ...]:
    """The decisions that would be flagged in a text known to be spun
    (:func:`_pick_suspects`), each saying why it was not flagged. ``score`` is the
    document model's, before a listed fingerprint raises ``Analysis.score``."""
    out: list[Span] = []
    for given, toks, d, feats in picked:
        prob = score * given
        span = _span_from(text, toks, d, prob, feats, lm_name)
        why = Evidence("suspect", f"P(substituted | document spun) = {given:.3f} reaches the "
                                  f"operating point {threshold:.2f}, but the document "
                                  f"model's P(spun) = {score:.3f} keeps the confidence at "
                                  f"{prob:.3f}: not flagged, listed for review", given)
        out += _word_spans(text, toks, d, replace(span, evidence=(*span.evidence, why)))
    return tuple(sorted(out, key=lambda s: s.start))


def _fingerprint_spans(text: str, matcher: Any) -> list[Span]:
    """The fast path: listed fingerprints become spans directly (``listed=True``)."""
    if matcher is None:
        return []
    from unspin.fingerprints.store import clean_expected

    out: list[Span] = []
    for hit in _leftmost_longest(matcher.scan(text)):
        alternatives = clean_expected(hit.expected, hit.text)
        cands: tuple[Candidate, ...]
        if alternatives:
            restored = transfer_case(hit.text, alternatives[0])
            ev = Evidence("fingerprint", f"list '{hit.list_name}': {hit.query} matched by "
                                         f"{hit.clause} (expected '{hit.expected}')", 1.0)
            cands = (Candidate(restored, 0.0, 0.99, ("fingerprints",)),
                     Candidate(hit.text, 0.0, 0.01, ("spun",)))
        else:
            # "???" and other notes: the list knows the phrase is tortured, not
            # what it was; flagged, never replaced by the note itself.
            restored = hit.text
            ev = Evidence("fingerprint", f"list '{hit.list_name}': {hit.query} matched by "
                                         f"{hit.clause}; the list gives no original "
                                         f"('{hit.expected}'): flagged, not restored", 1.0)
            cands = (Candidate(hit.text, 0.0, 1.0, ("spun",)),)
        out.append(Span(hit.start, hit.end, hit.text, restored, 0.99, cands, (ev,), True))
    return out


def _document_evidence(text: str, spans: list[Span], signatures: Sequence[SignatureHit]
                       ) -> tuple[tuple[Evidence, ...], list[Span]]:
    """Spinner signatures (found once, by :func:`_signature_hits`), family
    attribution, and leaked originals for spans."""
    try:
        from unspin.fingerprints.signatures import (
            attribute_family,
            leak_support,
            leaked_words,
        )
    except ImportError:  # the [fingerprints] extra is not installed
        return (), spans
    evidence = [h.to_evidence() for h in signatures]
    family = attribute_family(evidence)
    if family is not None:
        evidence.append(Evidence("family", f"spinner family '{family[0]}'", family[1]))
    leaked = leaked_words(text)
    if not leaked:
        return tuple(evidence), spans
    out: list[Span] = []
    for s in spans:
        changed = " ".join(w for w in s.restored.lower().split()
                           if w not in s.text.lower().split())
        if changed and leak_support(changed, leaked):
            s = Span(s.start, s.end, s.text, s.restored, s.confidence, s.candidates,
                     (*s.evidence, Evidence("leaked", f"'{changed}' appears in a hashtag or "
                                                      "slug written before spinning", 1.0)),
                     s.listed)
        out.append(s)
    return tuple(evidence), out


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
