"""Accurate tier: one pass of the causal neural LM re-ranks every decision.

The n-gram decoder sees two words of context; SmolLM2-135M
(``unspin.lm.neural``) sees everything before a word. Scoring each candidate
sentence separately costs a forward pass per alternative (the first version
of this tier did that: ~10 s per 600-word story on 2 cores). Instead, the
neural model reads the spun text once, left to right. At every decision its
distribution at the span's first token already scores *every* candidate
(by its first token) against the full left context, and says how surprising
the spun word and the word after it are. So the cost is the text's length,
whatever the number of candidates.

Each alternative's score becomes its n-gram score (left and right context,
channel) plus ``NEURAL_WEIGHT`` times its neural gain over the spun word,
``log P_nn(candidate | left) - log P_nn(spun | left)``; the posterior of
keeping the spun text is recomputed from those scores, and the candidate
chosen when it is not kept comes from the candidate ranker
(``decode/rerank.py``: the same sum, unless a fitted ranker is installed).
For a one-word decision the words the neural model expects at the span,
filtered by part of speech and thesaurus relatedness
(``CandidateGenerator.lm_proposals``), join the alternatives as LM
proposals: this is how the accurate tier restores substitutions that no
thesaurus links ("assortment" -> "number"). Their
n-gram score is taken as neutral (the keep alternative's), since the n-gram
decoder never saw them.

The neural quantities also become span-model features (``NN_FEATURES``) and
document features (``NN_DOC_FEATURES``); the accurate tier has its own fitted
span and document models (``bench/fit_model.py``, tier "neural").
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, NamedTuple

from unspin.candidates.generate import CandidateGenerator, Proposal
from unspin.candidates.lmfill import content_tags
from unspin.decode.lattice import Alternative, Decision, Edge, softmax
from unspin.decode.rerank import Ranker, rank_features
from unspin.decode.spanmodel import clip_logit
from unspin.text.morph import transfer_case
from unspin.text.tokenize import Token

if TYPE_CHECKING:
    from unspin.lm.neural import TextEvidence
    from unspin.resources.similarity import Similarity

#: A decision as the span model scored it: P(span | spun), its sentence's
#: tokens, the decision, its features.
Scored = tuple[float, Sequence[Token], Decision, dict[str, float]]


@dataclass(frozen=True)
class RankingRow:
    """One decision's candidates and their ranking features (fitting data)."""

    start: int
    end: int
    texts: tuple[str, ...]
    features: tuple[tuple[float, ...], ...]


#: Weight of the neural left-context gain against the n-gram + channel score.
NEURAL_WEIGHT = 1.0
#: Alternatives per decision scored by the neural model (best n-gram first).
TOP = 8
#: Neural proposals added per one-word decision, and how deep to look for them.
FILLS, FILL_DEPTH = 3, 40

#: Two adjacent one-word decisions are also read as one collocation spun word
#: by word (``_collocations``): the first word's ``PAIR_FIRST`` likeliest
#: originals are each read by the neural model, which then scores every
#: original of the second word after it; ``PAIR_KEEP`` pairs join a two-word
#: decision, which replaces the two when it explains them better.
PAIR_FIRST, PAIR_READ, PAIR_KEEP = 8, 6, 4
#: At most this share of a text's words are sites whose first words are read
#: (the most promising first), so a heavily spun text costs a bounded amount.
PAIR_BUDGET = 0.05
#: Whether the accurate tier reads collocations at all (an A/B switch for the
#: measurements in docs/model.md).
COLLOCATIONS = True

#: Span-model features the accurate tier adds (see ``decode/spanmodel.py``).
NN_FEATURES = (
    "nn_spun_first",  # log P_nn(first token of the spun text | left context)
    "nn_spun_lp",  # log P_nn(all its tokens | left context)
    "nn_gain",  # neural gain of the chosen candidate over the spun text
    "nn_next",  # log P_nn(token after the span | left, spun text)
    "nn_rank",  # log(1 + tokens the model preferred to the spun one)
    "nn_entropy",  # entropy of the model's distribution at the span
    "nn_reopened",  # the n-gram path kept the spun text; the neural pass reopened it
)
#: Document features the accurate tier adds (see ``decode/score.py``).
NN_DOC_FEATURES = ("nn_mean_lp", "nn_low_share")
#: Decisions whose P(span | spun) from the single pass reaches this get the
#: continuation check (``continuation_check``); the continuation model is
#: fitted on such decisions only, and the ones below keep their probability.
CONTINUATION_MIN = 0.2
#: Substitutions read with the words after them per flagged decision (the
#: single pass's choice and the next best by posterior), and the weight of that
#: reading's gain against the log posterior when :func:`rechoose` chooses among
#: them (fitted 1.10 by maximum likelihood on DEV
#: profile a over the default LM, 65 decisions, scratch; docs/model.md).
CHOICE_READINGS = 4
CHOICE_WEIGHT = 1.0
#: Features of the continuation model, and the clip on the gain (nats).
CONTINUATION_FEATURES = ("given_logit", "nn_cont_gain")
CONTINUATION_CLIP = 15.0
#: Document features the continuation check adds (:func:`continuation_doc_features`).
CONT_DOC_FEATURES = ("cont_max_gain",)


class Rescored(NamedTuple):
    decisions: list[list[Decision]]
    #: the neural span features of each ``(sentence, decision)``
    features: dict[tuple[int, int], dict[str, float]]
    #: the neural document features
    doc: dict[str, float]
    #: the pass itself, for :func:`continuation_check`
    evidence: TextEvidence
    #: the pass's span index of each ``(sentence, decision)``
    span_of: dict[tuple[int, int], int]
    #: the ``(sentence, decision)`` each returned decision had on the way in
    #: (a collocation that replaced two: the first's), where they differ
    origin: dict[tuple[int, int], tuple[int, int]]


def rescore(text: str, sentences: Sequence[tuple[Sequence[Token], Sequence[Decision]]],
            lm: Any, channel_weight: float, proposals: CandidateGenerator | None = None,
            breaks: Sequence[int] = (), ranker: Ranker | None = None,
            ranking: list[RankingRow] | None = None,
            similarity: Similarity | None = None,
            collocations: CandidateGenerator | None = None) -> Rescored:
    """Re-rank every decision with one neural pass over ``text``.

    Returns the decisions of each sentence, the neural span features of each
    ``(sentence, decision)``, the neural document features, and the pass. With
    ``proposals`` (the candidate generator), one-word decisions also get the
    neural model's own proposals (source "lm"). ``breaks`` are the text's
    sentence starts (where a long text may be cut into chunks). The pass runs
    even with no decision: the document features need it.

    ``ranker`` chooses among the substitutions (``decode/rerank.py``; the
    fixed sum when None). ``ranking``, when given, receives each decision's
    span, candidate texts and ranking features (for ``bench/fit_ranker.py``).
    ``similarity`` gives the ranker each candidate's closeness in meaning to
    the spun text (``resources/similarity.py``; unknown when None). With
    ``collocations`` (the candidate generator), adjacent one-word decisions are
    also read as one collocation (:func:`_collocations`).
    """
    rank = (ranker.with_channel_weight(channel_weight) if ranker is not None
            else Ranker.fixed(channel_weight))
    keys: list[tuple[int, int]] = []
    queries: list[tuple[int, int, list[str]]] = []
    for si, (toks, decisions) in enumerate(sentences):
        for di, d in enumerate(decisions):
            alts = [a.edge.proposal.text for a in d.alternatives
                    if a.edge.proposal is not None][:TOP]
            keys.append((si, di))
            queries.append((toks[d.i].start, toks[d.j - 1].end, alts))
    sites = (_pair_sites(text, sentences) if collocations is not None and COLLOCATIONS
             and collocations.use_collocations else [])
    firsts: dict[tuple[int, int], list[Proposal]] = {}
    query_of = {key: n for n, key in enumerate(keys)}
    for si, di in sites:  # every original of a first word is read by the pass
        toks, ds = sentences[si]
        d = ds[di]
        assert collocations is not None
        firsts[(si, di)] = [p for p in collocations.propose_wide((toks[d.i].norm,))
                            if len(p.words) == 1]
        queries[query_of[(si, di)]][2].extend(p.text for p in firsts[(si, di)])
        # the two words' own range, for the continuation check
        queries.append((toks[d.i].start, toks[d.i + 1].end, []))
    out = [list(ds) for _, ds in sentences]
    ev = lm.evidence(text, queries, breaks, top=FILL_DEPTH if proposals is not None else 0)
    features: dict[tuple[int, int], dict[str, float]] = {}
    for (si, di), pe in zip(keys, ev.spans[: len(keys)], strict=True):
        if pe is None:
            continue
        toks = sentences[si][0]
        d = out[si][di]
        keep = next(a for a in d.alternatives if a.edge.proposal is None)
        scored: list[tuple[Edge, float, float]] = []  # edge, n-gram lm, neural
        for a in d.alternatives:
            if a.edge.proposal is None:
                scored.append((a.edge, a.lm, pe.spun_first))
            elif a.edge.proposal.text in pe.alternatives:
                scored.append((a.edge, a.lm, pe.alternatives[a.edge.proposal.text]))
        if proposals is not None and d.j - d.i == 1 and pe.predicted:
            have = {e.proposal.text for e, _, _ in scored if e.proposal is not None}
            fills = proposals.lm_proposals(toks[d.i].norm, pe.predicted, have, FILLS,
                                           "the neural model")
            sub = next((e for e, _, _ in scored if e.proposal is not None), None)
            log_sub = ((sub.channel - sub.proposal.channel) / sub.proposal.subs
                       if sub is not None and sub.proposal is not None else 0.0)
            lp = dict(pe.predicted)
            for p in fills:
                scored.append((Edge(d.i, d.j, p.words, log_sub + p.channel, p), keep.lm,
                               lp[p.text]))
        if not any(e.proposal is not None for e, _, _ in scored):
            continue
        totals = [lm_ + channel_weight * e.channel + NEURAL_WEIGHT * (nn - pe.spun_first)
                  for e, lm_, nn in scored]
        # P(substituted) from the noisy-channel sum; which original, from the ranker.
        p_keep = softmax(totals)[next(k for k, (e, _, _) in enumerate(scored) if e is keep.edge)]
        spun = " ".join(t.norm for t in toks[d.i:d.j])
        subs = [(k, e.proposal, rank_features(
                    e.proposal, lm_ - keep.lm, nn - pe.spun_first,
                    similarity.score(spun, e.proposal.text) if similarity is not None else None))
                for k, (e, lm_, nn) in enumerate(scored) if e.proposal is not None]
        given = softmax([rank.score(f) for *_, f in subs])
        post = [p_keep] * len(scored)  # the substitutions' entries are overwritten below
        for (k, _, _), q in zip(subs, given, strict=True):
            post[k] = (1.0 - p_keep) * q
        if ranking is not None:
            ranking.append(RankingRow(toks[d.i].start, toks[d.j - 1].end,
                                      tuple(p.text for _, p, _ in subs),
                                      tuple(f for *_, f in subs)))
        ranked = sorted((Alternative(e, t, lm_, p)
                         for (e, lm_, _), t, p in zip(scored, totals, post, strict=True)),
                        key=lambda a: -a.posterior)
        best = next(a for a in ranked if a.edge.proposal is not None)
        nn_of = {id(e): nn for e, _, nn in scored}
        out[si][di] = replace(d, chosen=best.edge, alternatives=tuple(ranked),
                              p_changed=1.0 - p_keep)
        features[(si, di)] = {
            "nn_spun_first": pe.spun_first,
            "nn_spun_lp": pe.spun_lp,
            "nn_gain": nn_of[id(best.edge)] - pe.spun_first,
            "nn_next": pe.next_lp,
            "nn_rank": math.log1p(pe.rank),
            "nn_entropy": pe.entropy,
        }
        close = (similarity.score(spun, best.edge.proposal.text)
                 if similarity is not None and best.edge.proposal is not None
                 and rank.weights.get("similarity") else None)
        if close is not None:  # the ranker's evidence line says it; no span model reads it
            features[(si, di)]["similarity"] = close
    doc = {"nn_mean_lp": ev.mean_lp, "nn_low_share": ev.low_share}
    span_of = {key: n for n, key in enumerate(keys)}
    if not sites:
        return Rescored(out, features, doc, ev, span_of, {})
    assert collocations is not None
    pairs = _collocations(text, sentences, out, sites, firsts, ev, span_of, lm, channel_weight,
                          collocations, rank, similarity)
    # each pair replaces its two decisions: renumber what is keyed by decision
    origin: dict[tuple[int, int], tuple[int, int]] = {}
    new_features: dict[tuple[int, int], dict[str, float]] = {}
    new_span_of: dict[tuple[int, int], int] = {}
    for si, ds in enumerate(out):
        kept: list[Decision] = []
        di = 0
        while di < len(ds):
            new_key, old_key = (si, len(kept)), (si, di)
            if new_key != old_key:
                origin[new_key] = old_key
            got = pairs.get(old_key)
            if got is None:
                if old_key in features:
                    new_features[new_key] = features[old_key]
                if old_key in span_of:
                    new_span_of[new_key] = span_of[old_key]
                kept.append(ds[di])
                di += 1
            else:
                kept.append(got[0])
                new_features[new_key], new_span_of[new_key] = got[1], got[2]
                di += 2
        out[si] = kept
    return Rescored(out, new_features, doc, ev, new_span_of, origin)


def _pair_sites(text: str, sentences: Sequence[tuple[Sequence[Token], Sequence[Decision]]]
                ) -> list[tuple[int, int]]:
    """``(sentence, decision)`` of each one-word decision followed, one space
    later, by another, both on content words: where a collocation may have
    been spun word by word."""
    out: list[tuple[int, int]] = []
    for si, (toks, ds) in enumerate(sentences):
        for di in range(len(ds) - 1):
            d1, d2 = ds[di], ds[di + 1]
            if (d1.j - d1.i == 1 and d2.j - d2.i == 1 and d2.i == d1.j
                    and text[toks[d1.i].end : toks[d2.i].start] == " "
                    and content_tags(toks[d1.i].norm) and content_tags(toks[d2.i].norm)):
                out.append((si, di))
    return out


def _keep_edge(d: Decision) -> Edge:
    return next(a.edge for a in d.alternatives if a.edge.proposal is None)


def _keep_total(d1: Decision, d2: Decision, channel_weight: float) -> float:
    """The score of keeping both spun words, as a pair's score counts it."""
    return channel_weight * (_keep_edge(d1).channel + _keep_edge(d2).channel)


def _log_sub(d: Decision) -> float:
    """log P(substituted) per word, as the decoder charged ``d``'s substitutions."""
    sub = next(a.edge for a in d.alternatives if a.edge.proposal is not None)
    assert sub.proposal is not None
    return (sub.channel - sub.proposal.channel) / sub.proposal.subs


def _need(d1: Decision, d2: Decision) -> float:
    """How far above keeping both words a pair must score to replace the two
    one-word decisions: above changing either word alone. (Each one-word
    decision read the other word as spun; changing both is what the pair
    itself scores, its search holding their two choices together.)"""
    need = 0.0
    for d in (d1, d2):
        keep = next(a.score for a in d.alternatives if a.edge.proposal is None)
        best = max((a.score for a in d.alternatives if a.edge.proposal is not None), default=keep)
        need = max(need, best - keep)
    return need


def _collocations(text: str, sentences: Sequence[tuple[Sequence[Token], Sequence[Decision]]],
                  out: list[list[Decision]], sites: Sequence[tuple[int, int]],
                  firsts: dict[tuple[int, int], list[Proposal]],
                  ev: TextEvidence, span_of: dict[tuple[int, int], int], lm: Any,
                  channel_weight: float, gen: CandidateGenerator, rank: Ranker,
                  similarity: Similarity | None
                  ) -> dict[tuple[int, int], tuple[Decision, dict[str, float], int]]:
    """Two-word decisions that replace the one-word decisions at ``sites``.

    A tortured phrase is a collocation spun word by word ("artificial
    intelligence" -> "counterfeit consciousness"): each word's original
    reads badly next to the other spun word, so the one-word decisions miss
    it, and the n-gram collocations (``CandidateGenerator.propose_pair``)
    need the pair in the n-gram model's bigrams, which the shipped web
    counts mostly lack. Here the neural model reads it, over every link of
    both words (``CandidateGenerator.propose_wide``). The single pass
    already scored every original ``a`` of the first word after the left
    context; the ``PAIR_FIRST`` best by that gain plus channel are read in
    place of the first word (``NeuralLM.next_word_scores``), unless even a
    certain second word could not lift them over the bar below, and each
    reading scores every original ``b`` of the second word (first tokens).
    First-token scores overrate rare words whose first token is common, so
    the ``PAIR_READ`` best pairs by them are read whole with the next words
    (``NeuralLM.continuation_gains``). A pair's score is its two links'
    channels, the spin rate twice, and that gain over the spun words; the
    n-gram model, which never saw the pair, is neutral. The ``PAIR_KEEP``
    best pairs and the spun text make a two-word decision (posterior from
    the scores, choice from the ranker), which replaces the two one-word
    decisions when its best pair is further above keeping the spun words
    than either word's own best substitution is (``_need``). Returns, per
    replaced first decision, the new decision, its features and its index
    among the extra spans of the pass (after the decisions').
    """
    n_keys = len(span_of)
    todo: list[tuple[int, int, int, list[tuple[Proposal, float]], list[Proposal], list[str]]] = []
    queries: list[tuple[int, str, Sequence[str]]] = []
    reads: list[int] = []  # todo entry of each query
    # per site that passes the bound: how far its best first word's bound clears it
    promise: list[tuple[float, int, int, list[tuple[Proposal, float]], list[Proposal]]] = []
    for n, (si, di) in enumerate(sites):
        toks = sentences[si][0]
        d1, d2 = out[si][di], out[si][di + 1]
        k1 = span_of.get((si, di), -1)
        pe1 = ev.spans[k1] if k1 >= 0 else None
        if pe1 is None or not any(a.edge.proposal is not None for a in d1.alternatives):
            continue
        seconds = [p for p in gen.propose_wide((toks[d2.i].norm,)) if len(p.words) == 1]
        if not seconds:
            continue
        firsts_scored = [(p, pe1.alternatives[p.text] - pe1.spun_first)
                         for p in firsts[(si, di)] if p.text in pe1.alternatives]
        if not firsts_scored:
            continue
        firsts_scored.sort(key=lambda t: -(t[1] + channel_weight * t[0].channel))
        # log P(b | a) <= 0, so no pair with first word a can score above
        # a's bound: a first word whose bound stays within what the one-word
        # decisions explain is not read (most pairs of clean words, whose
        # second word fits the first, are not read at all)
        rest = (channel_weight * max(p.channel for p in seconds) - pe1.next_lp
                + 2 * channel_weight * _log_sub(d1) - _keep_total(d1, d2, channel_weight)
                - _need(d1, d2))
        firsts_scored = [(p, gain) for p, gain in firsts_scored[:PAIR_FIRST]
                         if gain + channel_weight * p.channel + rest > 0]
        if firsts_scored:
            top = firsts_scored[0]
            promise.append((top[1] + channel_weight * top[0].channel + rest, n, k1, firsts_scored,
                            seconds))
    # A heavily spun text passes the bound almost everywhere: the most
    # promising sites are read, at most PAIR_BUDGET of the words' worth.
    words = sum(len(toks) for toks, _ in sentences)
    promise.sort(key=lambda x: -x[0])
    for _, n, k1, firsts_scored, seconds in sorted(promise[: max(2, int(PAIR_BUDGET * words))],
                                                   key=lambda x: x[1]):
        si, di = sites[n]
        toks = sentences[si][0]
        d1, d2 = out[si][di], out[si][di + 1]
        spun2 = d2.surface(text, toks)[0]
        spun1 = d1.surface(text, toks)[0]
        reads_b = [transfer_case(spun2, p.text) for p in seconds]
        for p, _gain in firsts_scored:
            reads.append(len(todo))
            queries.append((k1, transfer_case(spun1, p.text), reads_b))
        todo.append((si, di, n, firsts_scored, seconds, reads_b))
    if not queries:
        return {}
    scores = lm.next_word_scores(ev, queries)
    by_todo: dict[int, list[dict[str, float] | None]] = {}
    for t, got in zip(reads, scores, strict=True):
        by_todo.setdefault(t, []).append(got)
    # first-token scores, to choose which pairs to read in full
    shortlist: list[tuple[int, float, list[tuple[Proposal, Proposal, float]]]] = []
    exact: list[tuple[int, str]] = []
    for t, (si, di, n, firsts_kept, seconds, reads_b) in enumerate(todo):
        d1, d2 = out[si][di], out[si][di + 1]
        pe1 = ev.spans[span_of[(si, di)]]
        assert pe1 is not None
        log_sub = _log_sub(d1)
        approx: list[tuple[float, Proposal, Proposal, float]] = []
        for (a, gain_a), after in zip(firsts_kept, by_todo.get(t, []), strict=True):
            if after is None:
                continue
            for b, read_b in zip(seconds, reads_b, strict=True):
                if read_b in after:
                    gain = gain_a + after[read_b] - pe1.next_lp
                    approx.append((channel_weight * (a.channel + b.channel) + NEURAL_WEIGHT * gain,
                                   a, b, after[read_b]))
        approx.sort(key=lambda x: (-x[0], x[1].text, x[2].text))
        # a first-token score overrates a rare word whose first token is common
        # ("inconvincibility"); it only decides which pairs are read in full
        if not approx or (approx[0][0] + 2 * channel_weight * log_sub
                          - _keep_total(d1, d2, channel_weight) <= _need(d1, d2)):
            continue
        toks = sentences[si][0]
        spun = text[toks[d1.i].start : toks[d2.i].end]
        picked = [(a, b, lp_b) for _, a, b, lp_b in approx[:PAIR_READ]]
        shortlist.append((t, log_sub, picked))
        exact += [(n_keys + n, transfer_case(spun, f"{a.text} {b.text}")) for a, b, _ in picked]
    if not exact:
        return {}
    gains = lm.continuation_gains(ev, exact)
    at = 0
    result: dict[tuple[int, int], tuple[Decision, dict[str, float], int]] = {}
    taken_until: dict[int, int] = {}
    for t, log_sub, picked in shortlist:
        si, di, n = todo[t][:3]
        mine, at = gains[at : at + len(picked)], at + len(picked)
        read = [(a, b, lp_b, g) for (a, b, lp_b), g in zip(picked, mine, strict=True)
                if g is not None]
        if di < taken_until.get(si, 0) or not read:
            continue  # its first word is the second of a pair already taken
        toks = sentences[si][0]
        d1, d2 = out[si][di], out[si][di + 1]
        pe1 = ev.spans[span_of[(si, di)]]
        pe2 = ev.spans[span_of[(si, di + 1)]] if (si, di + 1) in span_of else None
        assert pe1 is not None
        keep_total = _keep_total(d1, d2, channel_weight)
        pairs = sorted(((channel_weight * (a.channel + b.channel + 2 * log_sub)
                         + NEURAL_WEIGHT * g, g, a, b, lp_b) for a, b, lp_b, g in read),
                       key=lambda x: (-x[0], x[2].text, x[3].text))
        if pairs[0][0] - keep_total <= _need(d1, d2):
            continue
        spun1 = d1.surface(text, toks)[0]
        spun2 = d2.surface(text, toks)[0]
        keep = Edge(d1.i, d2.j, (toks[d1.i].norm, toks[d2.i].norm),
                    _keep_edge(d1).channel + _keep_edge(d2).channel, None, 0.0)
        scored: list[tuple[Edge, float, float]] = [(keep, keep_total, 0.0)]
        for total, gain, a, b, lp_b in pairs[:PAIR_KEEP]:
            p = Proposal(
                f"{a.text} {b.text}", (a.text, b.text),
                tuple(dict.fromkeys((*a.sources, *b.sources, "collocation"))),
                a.channel + b.channel,
                f"collocation: SmolLM2-135M reads '{b.text}' after '{a.text}' at "
                f"{lp_b:.1f} nats ('{spun2}' after '{spun1}': {pe1.next_lp:.1f}), and the pair "
                f"with the next words {gain:+.1f} nats over the spun words; "
                f"{a.detail}; {b.detail}",
                a.reverse and b.reverse, a.inflected or b.inflected, subs=2,
                word_sources=((*a.sources, "collocation"), (*b.sources, "collocation")))
            scored.append((Edge(d1.i, d2.j, p.words, 2 * log_sub + p.channel, p, 0.0),
                           total, gain))
        p_keep = softmax([total for _, total, _ in scored])[0]
        spun = f"{toks[d1.i].norm} {toks[d2.i].norm}"
        subs = [rank_features(e.proposal, 0.0, gain,
                              similarity.score(spun, e.proposal.text)
                              if similarity is not None else None)
                for e, _, gain in scored[1:] if e.proposal is not None]
        given = softmax([rank.score(f) for f in subs])
        post = [p_keep] + [(1.0 - p_keep) * q for q in given]
        ranked = sorted((Alternative(e, total, 0.0, q)
                         for (e, total, _), q in zip(scored, post, strict=True)),
                        key=lambda a: -a.posterior)
        best = next(a for a in ranked if a.edge.proposal is not None)
        gain_of = {id(e): gain for e, _, gain in scored}
        feats = {
            "nn_spun_first": pe1.spun_first,
            "nn_spun_lp": pe1.spun_lp + (pe2.spun_lp if pe2 is not None else 0.0),
            "nn_gain": gain_of[id(best.edge)],
            "nn_next": pe2.next_lp if pe2 is not None else 0.0,
            "nn_rank": math.log1p(pe1.rank),
            "nn_entropy": pe1.entropy,
            # its gain is the whole reading's, not a first token's (the evidence says so)
            "nn_pair": 1.0,
        }
        decision = Decision(d1.i, d2.j, best.edge, tuple(ranked), 1.0 - p_keep)
        result[(si, di)] = (decision, feats, n_keys + n)
        taken_until[si] = di + 2
    return result


def continuation_check(text: str, scored: list[Scored], keys: Sequence[tuple[int, int]],
                       rescored: Rescored, lm: Any, model: Any) -> list[Scored]:
    """``scored`` (P(span | spun), sentence tokens, decision, features) with
    P(span | spun) revised after reading the candidate *and the words after it*;
    the gain and the probability before it join the decision's features.

    The single pass judged each candidate by its first token after the left
    context; the continuation gain (``NeuralLM.continuation_gains``: candidate
    plus the next four words, against the spun text plus the same words) says
    whether what follows agrees. ``model`` (a fitted
    :class:`~unspin.decode.spanmodel.LogisticModel` over
    ``CONTINUATION_FEATURES``) turns the two into the new probability; with
    None the probability is left as it was (the fitting script collects the
    gains that way). ``keys`` are the ``(sentence, decision)`` of each entry.

    Every decision whose P(span | spun) reached ``CONTINUATION_MIN`` is
    checked, before the document verdict: the document model reads the
    revised probabilities and the strongest gain
    (:func:`continuation_doc_features`), which separate spun from clean text
    better than the single pass's (docs/model.md, "Document model: the
    continuation check"). Each check costs a short forward pass, batched.
    Which original a flagged span restores can then change (:func:`rechoose`).
    """
    todo = [k for k, (given, *_) in enumerate(scored) if given >= CONTINUATION_MIN]
    queries = []
    for k in todo:
        _, toks, d, _ = scored[k]
        queries.append((rescored.span_of.get(keys[k], -1), d.surface(text, toks)[1]))
    out = list(scored)
    gains = lm.continuation_gains(rescored.evidence, queries) if queries else []
    for k, gain in zip(todo, gains, strict=True):
        if gain is None:
            continue
        given, toks, d, feats = scored[k]
        feats["nn_cont_gain"] = gain
        feats["span_given_first_pass"] = given
        prob = (model.probability(continuation_features(given, gain)) if model is not None
                else given)
        out[k] = (prob, toks, d, feats)
    return out


def rechoose(text: str, scored: list[Scored], keys: Sequence[tuple[int, int]],
             rescored: Rescored, lm: Any, which: Iterable[int]) -> list[Scored]:
    """``scored`` with the original of each entry in ``which`` (indices)
    re-chosen by reading its likeliest substitutions with the words after them.

    The ranker (``decode/rerank.py``) chose by each candidate's first token;
    "three-week closure ." cannot tell "period" from "shutdown", "crossed
    10,000" after "instances" can. For each such decision that the
    continuation check read, the next ``CHOICE_READINGS - 1`` substitutions
    by posterior are read the same way, against the same reading of the spun
    text, and the one with the highest log posterior plus ``CHOICE_WEIGHT``
    times its gain becomes the decision's choice. It runs after the document
    verdict, only on what the analysis shows: every probability and the
    document score read the single pass's choice, which is what their models
    were fitted on, so the re-choice changes which words a flag restores,
    never which spans are flagged; and a text with no flag and no suspect
    pays nothing. The caller passes the flagged entries, then, in a call of
    their own, the suspects (``Analysis.suspects``, at most ten), so the
    flags' readings are batched the same with or without suspects. A
    re-chosen decision lists its choice first among its alternatives, then
    the ranker's (:func:`first_choice`), and carries the choice's gain
    (``nn_choice_gain``) for its evidence.
    """
    if CHOICE_READINGS < 2:
        return scored
    todo: list[tuple[int, Alternative, float, list[tuple[Alternative, int]]]] = []
    queries: list[tuple[int, str]] = []
    for k in sorted(which):  # in text order, however the caller ranked them
        _, toks, d, feats = scored[k]
        subs = [a for a in d.alternatives if a.edge.proposal is not None]
        if "nn_cont_gain" not in feats or len(subs) < 2:
            continue
        first = first_choice(d, feats)
        others = sorted((a for a in subs if a is not first), key=lambda a: -a.posterior)
        spun = d.surface(text, toks)[0]
        span = rescored.span_of.get(keys[k], -1)
        mine = []
        for a in others[: CHOICE_READINGS - 1]:
            assert a.edge.proposal is not None
            mine.append((a, len(queries)))
            queries.append((span, transfer_case(spun, a.edge.proposal.text)))
        todo.append((k, first, feats["nn_cont_gain"], mine))
    gains = lm.continuation_gains(rescored.evidence, queries) if queries else []
    out = list(scored)
    for k, first, gain, mine in todo:
        read = [(first, gain)] + [(a, g) for a, q in mine if (g := gains[q]) is not None]
        best, best_gain = max(read, key=lambda t: _choice_score(t[0].posterior, t[1]))
        if best is not first:
            prob, toks, d, feats = out[k]
            rest = [a for a in d.alternatives if a is not best and a is not first]
            d = replace(d, chosen=best.edge, alternatives=(best, first, *rest))
            feats["nn_choice_gain"] = best_gain
            out[k] = (prob, toks, d, feats)
    return out


def _choice_score(posterior: float, gain: float) -> float:
    return math.log(max(posterior, 1e-12)) + CHOICE_WEIGHT * gain


def first_choice(d: Decision, feats: dict[str, float]) -> Alternative:
    """The single pass's choice among ``d``'s substitutions, which the
    continuation check's probability and gain read: ``d.chosen``, unless the
    check re-chose (``nn_choice_gain`` in ``feats``), which lists its choice
    first and the single pass's second."""
    if "nn_choice_gain" in feats:
        return d.alternatives[1]
    return next(a for a in d.alternatives if a.edge is d.chosen)


def strongest_continuation(scored: Sequence[Scored]) -> Scored | None:
    """The checked decision whose continuation gain is largest, if any was checked."""
    checked = [entry for entry in scored if "nn_cont_gain" in entry[3]]
    return max(checked, key=lambda entry: entry[3]["nn_cont_gain"], default=None)


def continuation_doc_features(scored: Sequence[Scored]) -> dict[str, float]:
    """The strongest continuation gain in the text (``CONT_DOC_FEATURES``).

    One candidate that reads much better than the spun words *together with
    what follows them* is strong evidence of a substitution even where the
    revised span probabilities stay moderate; on clean text the spun words
    themselves fit what follows. With nothing checked it is the clip's floor.
    """
    best = strongest_continuation(scored)
    return {"cont_max_gain": (min(CONTINUATION_CLIP, best[3]["nn_cont_gain"])
                              if best is not None else -CONTINUATION_CLIP)}


def continuation_features(given: float, gain: float) -> dict[str, float]:
    return {"given_logit": clip_logit(given),
            "nn_cont_gain": max(-CONTINUATION_CLIP, min(CONTINUATION_CLIP, gain))}
