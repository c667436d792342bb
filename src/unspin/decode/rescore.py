"""Accurate tier: rescore contested decisions with the causal neural LM.

The n-gram decoder sees two words of context; a sentence-level causal LM
(SmolLM2-135M, ``unspin.lm.neural``) sees the whole sentence. Rescoring every
position would cost seconds per story on a CPU, so only *contested*
decisions are rescored: those whose n-gram posterior P(changed) is at least
``LOW``. For each, the sentence is scored once per alternative
(the spun text, and the top n-gram candidates), all in one batch per
document; the alternative's neural log-probability plus its channel score
gives a new posterior, which replaces the n-gram one in the decision.

The same forward pass that scores the spun sentence also says which words
the neural model expected where the spun word stands. For a one-word
decision those words (same part of speech as the spun word, see
``candidates/lmfill.py``) join the alternatives as LM proposals, and a second
batch scores their sentences: this is how the accurate tier restores
substitutions that no thesaurus links and the n-gram model cannot see
("assortment" -> "number").

Decisions the n-gram model is sure of still go to the neural model: being
sure that a word was changed is not being sure what it was ("assortment" has
a dozen thesaurus originals, and the trigram's favourite is often wrong).
Only decisions with P(changed) below ``LOW`` are left alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from unspin.candidates.generate import CandidateGenerator
from unspin.decode.lattice import Alternative, Decision, Edge, softmax
from unspin.text.tokenize import Token

#: Rescore decisions whose n-gram P(changed) is at least LOW.
LOW = 0.05
#: The core sends only decisions whose n-gram span-model probability is at
#: least this (those that could be reported), bounding the neural cost by
#: the number of plausible flags instead of the number of words.
RESCORE_MIN = 0.2
#: Alternatives per decision sent to the neural model (plus the spun text).
TOP = 3
#: Neural proposals added per one-word decision, and how deep to look for them.
FILLS, FILL_DEPTH = 3, 40


def rescore(text: str, sentences: Sequence[tuple[Sequence[Token], Sequence[Decision]]],
            lm: Any, channel_weight: float,
            proposals: CandidateGenerator | None = None,
            chosen: set[tuple[int, int]] | None = None) -> list[list[Decision]]:
    """Return the decisions of each sentence, contested ones rescored.

    With ``proposals`` (the candidate generator), one-word decisions also get
    the neural model's own proposals (source "lm"); without it, only the
    n-gram alternatives compete. ``chosen`` restricts rescoring to those
    (sentence, decision) indices.
    """
    jobs: list[tuple[int, int, list[Alternative], int]] = []
    texts: list[str] = []
    offsets: dict[int, list[int]] = {}
    for si, (toks, decisions) in enumerate(sentences):
        if not toks:
            continue
        s0, s1 = toks[0].start, toks[-1].end
        for di, d in enumerate(decisions):
            if d.p_changed < LOW or (chosen is not None and (si, di) not in chosen):
                continue
            alts = [a for a in d.alternatives if a.edge.proposal is not None][:TOP]
            keep = [a for a in d.alternatives if a.edge.proposal is None]
            alts = keep + alts
            start, end = toks[d.i].start, toks[d.j - 1].end
            first = len(texts)
            for a in alts:
                new = text[start:end] if a.edge.proposal is None else a.edge.proposal.text
                texts.append(text[s0:start] + new + text[end:s1])
            if proposals is not None and d.j - d.i == 1:
                offsets[first] = [start - s0]  # alts[0] is the spun sentence
            jobs.append((si, di, alts, first))
    out = [list(ds) for _, ds in sentences]
    if not texts:
        return out
    if offsets:
        scores, predicted = lm.score_and_predict(texts, offsets, top=FILL_DEPTH)
    else:
        scores, predicted = lm.score(texts), {}
    # Second batch: the sentences with the neural model's own proposals.
    extra: list[str] = []
    extra_alts: dict[int, list[Alternative]] = {}
    for k, (si, di, alts, first) in enumerate(jobs):
        got = predicted.get((first, offsets.get(first, [-1])[0]))
        if not got or proposals is None:
            continue
        d = out[si][di]
        toks = sentences[si][0]
        have = {a.edge.proposal.text for a in alts if a.edge.proposal is not None}
        fills = proposals.lm_proposals(toks[d.i].norm, got, have, FILLS, "the neural model")
        if not fills:
            continue
        sub = next((a.edge for a in alts if a.edge.proposal is not None), None)
        log_sub = (sub.channel - sub.proposal.channel
                   if sub is not None and sub.proposal is not None else 0.0)
        s0, s1 = toks[0].start, toks[-1].end
        start, end = toks[d.i].start, toks[d.j - 1].end
        extra_alts[k] = [Alternative(Edge(d.i, d.j, p.words, log_sub + p.channel, p),
                                     0.0, 0.0, 0.0) for p in fills]
        extra.extend(text[s0:start] + p.text + text[end:s1] for p in fills)
    extra_scores = lm.score(extra) if extra else []
    e = 0
    k_text = 0
    for k, (si, di, alts, _first) in enumerate(jobs):
        neural = list(scores[k_text : k_text + len(alts)])
        k_text += len(alts)
        added = extra_alts.get(k, [])
        if added:
            neural += extra_scores[e : e + len(added)]
            e += len(added)
            alts = alts + added
        totals = [n + channel_weight * a.edge.channel for n, a in zip(neural, alts, strict=True)]
        post = softmax(totals)
        ranked = sorted(
            (Alternative(a.edge, t, n, p) for a, t, n, p in zip(alts, totals, neural, post,
                                                                  strict=True)),
            key=lambda a: -a.posterior,
        )
        p_keep = next(a.posterior for a in ranked if a.edge.proposal is None)
        best = ranked[0] if ranked[0].edge.proposal is not None else next(
            a for a in ranked if a.edge.proposal is not None)
        old = out[si][di]
        out[si][di] = replace(old, chosen=best.edge, alternatives=tuple(ranked),
                              p_changed=1.0 - p_keep)
    return out
