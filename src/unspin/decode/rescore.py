"""Accurate tier: rescore contested decisions with the causal neural LM.

The n-gram decoder sees two words of context; a sentence-level causal LM
(SmolLM2-135M, ``unspin.lm.neural``) sees the whole sentence. Rescoring every
position would cost seconds per story on a CPU, so only *contested*
decisions are rescored: those whose n-gram posterior P(changed) lies between
``low`` and ``high``. For each, the sentence is scored once per alternative
(the spun text, and the top n-gram candidates), all in one batch per
document; the alternative's neural log-probability plus its channel score
gives a new posterior, which replaces the n-gram one in the decision.

Clear cases (posterior above ``high``, e.g. "dying toll" -> "death toll")
keep their n-gram decision: the neural model would only confirm them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from unspin.decode.lattice import Alternative, Decision, softmax
from unspin.text.tokenize import Token

#: Rescore decisions whose n-gram P(changed) lies in [LOW, HIGH].
LOW, HIGH = 0.05, 0.995
#: Alternatives per decision sent to the neural model (plus the spun text).
TOP = 3


def rescore(text: str, sentences: Sequence[tuple[Sequence[Token], Sequence[Decision]]],
            lm: Any, channel_weight: float) -> list[list[Decision]]:
    """Return the decisions of each sentence, contested ones rescored."""
    jobs: list[tuple[int, int, list[Alternative]]] = []
    texts: list[str] = []
    for si, (toks, decisions) in enumerate(sentences):
        if not toks:
            continue
        s0, s1 = toks[0].start, toks[-1].end
        for di, d in enumerate(decisions):
            if not LOW <= d.p_changed <= HIGH:
                continue
            alts = [a for a in d.alternatives if a.edge.proposal is not None][:TOP]
            keep = [a for a in d.alternatives if a.edge.proposal is None]
            alts = keep + alts
            start, end = toks[d.i].start, toks[d.j - 1].end
            for a in alts:
                new = text[start:end] if a.edge.proposal is None else a.edge.proposal.text
                texts.append(text[s0:start] + new + text[end:s1])
            jobs.append((si, di, alts))
    out = [list(ds) for _, ds in sentences]
    if not texts:
        return out
    scores = lm.score(texts)
    k = 0
    for si, di, alts in jobs:
        neural = scores[k : k + len(alts)]
        k += len(alts)
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
