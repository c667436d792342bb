"""Noisy-channel decoding of one sentence over a lattice of candidate spans.

The lattice has a node between every two word tokens. Edges are

* *keep* edges (one token, emits the spun word; channel log P(keep)), and
* *substitution* edges (1-4 spun tokens -> a proposed original phrase;
  channel log P(spun | original) from :mod:`unspin.decode.channel`).

A beam search finds the path maximising ``log P_lm(original words) +
channel_weight * channel``, recombining hypotheses on the n-gram state. Then
each substitution on the best path gets a posterior: the softmax, over every
alternative for the same span (including keeping the spun text), of the score
of the sentence with that alternative and the best path everywhere else
(computed locally: only the span and the next ``order - 1`` words change).

Candidates are pruned before the search by the same local score against the
*spun* context, so common words with hundreds of inverse-thesaurus links stay
cheap. In ``screen`` mode, only positions where the n-gram model is surprised
by the spun text get candidates at all; clean sentences leave after one
kenlm call.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from unspin.candidates.generate import CandidateGenerator, Proposal
from unspin.candidates.lmfill import FillIndex
from unspin.decode.channel import ChannelModel
from unspin.lm.ngram import NgramLM
from unspin.text import morph
from unspin.text.tokenize import Token


def softmax(scores: Sequence[float]) -> list[float]:
    """Posteriors from natural-log scores (shifted by the max for stability)."""
    top = max(scores)
    exps = [math.exp(s - top) for s in scores]
    z = sum(exps)
    return [e / z for e in exps]


@dataclass(frozen=True, slots=True)
class Edge:
    i: int
    j: int
    words: tuple[str, ...]
    channel: float
    proposal: Proposal | None  # None: keep the spun tokens
    #: Local LM score of the window against the spun context, when pruning
    #: computed it (screen mode's ``local_decisions`` reads it back).
    lm: float | None = None


def _edge_maker() -> Callable[[int, int, tuple[str, ...], float, Proposal | None, float | None],
                              Edge]:
    """``Edge(i, j, words, channel, proposal, lm)`` at about half the cost.

    A frozen dataclass's ``__init__`` stores each field through
    ``object.__setattr__``; the decoder makes an Edge for every word of every
    examined sentence and for every kept candidate, and those calls were about
    a seventh of the time spent building the lattice in screen mode. Writing
    the slots directly gives the same object: equal, hashable and immutable
    like any Edge.
    """
    new = object.__new__
    set_i, set_j, set_words, set_channel, set_proposal, set_lm = (
        vars(Edge)[name].__set__ for name in ("i", "j", "words", "channel", "proposal", "lm"))

    def make(i: int, j: int, words: tuple[str, ...], channel: float,
             proposal: Proposal | None, lm: float | None) -> Edge:
        edge: Edge = new(Edge)
        set_i(edge, i)
        set_j(edge, j)
        set_words(edge, words)
        set_channel(edge, channel)
        set_proposal(edge, proposal)
        set_lm(edge, lm)
        return edge

    return make


_edge = _edge_maker()


@dataclass(frozen=True, slots=True)
class Alternative:
    edge: Edge
    score: float
    lm: float
    posterior: float


@dataclass(frozen=True, slots=True)
class Decision:
    """A substitution on the best path, with its competing alternatives."""

    i: int
    j: int
    chosen: Edge
    alternatives: tuple[Alternative, ...]  # sorted by posterior, best first
    p_changed: float

    def surface(self, text: str, toks: Sequence[Token]) -> tuple[str, str]:
        """The spun words this decision covers in ``text`` (``toks`` are its
        sentence's tokens), and its chosen original in their case: what a span
        reports and what the continuation check reads."""
        assert self.chosen.proposal is not None
        spun = text[toks[self.i].start : toks[self.j - 1].end]
        return spun, morph.transfer_case(spun, self.chosen.proposal.text)


#: A substitution before pruning: (end, original words, channel cost, proposal).
_Sub = tuple[int, tuple[str, ...], float, Proposal]


@dataclass
class _Hyp:
    score: float
    state: Any
    prev: _Hyp | None
    edge: Edge | None


class SentenceDecoder:
    def __init__(self, lm: NgramLM, gen: CandidateGenerator, channel: ChannelModel,
                 channel_weight: float, beam: int, max_span: int, max_candidates: int,
                 fill: FillIndex | None = None, screen: bool = False) -> None:
        self.lm = lm
        self.gen = gen
        self.fill = fill
        self.propose = gen.propose_screen if screen else gen.propose
        self.channel = channel
        self.cw = channel_weight
        self.beam = beam
        self.max_span = max_span
        self.max_candidates = max_candidates
        self.context = max(1, lm.order - 1)
        self.set_rate(channel.p_sub)

    def set_rate(self, p_sub: float) -> None:
        """Use a document's spin rate for substitution and keep edges."""
        self.p_sub = p_sub
        self.log_sub = math.log(p_sub)
        self.log_keep = math.log1p(-p_sub)

    # -- edges -------------------------------------------------------------------
    @staticmethod
    def suspicious(lps: Sequence[float], n: int, threshold: float,
                        budget: float | None = None) -> set[int]:
        """Positions to examine; ``budget`` caps them to that share of ``n``.

        A surprising word may be the substitution itself or the word after it
        (the LM only notices "dying toll" at "toll"), so both are examined.
        """
        low = [k for k, lp in enumerate(lps[:n]) if lp < threshold]
        if budget is not None:
            cap = max(1, int(budget * n + 0.5))
            low = sorted(low, key=lambda k: lps[k])[: max(1, cap // 2)]
        out: set[int] = set()
        for k in low:
            out.add(k)
            if k > 0:
                out.add(k - 1)
        # the word before </s> is judged by the end-of-sentence score too
        if len(lps) > n and lps[-1] < threshold and n:
            out.add(n - 1)
        return out

    def _context_state(self, words: Sequence[str], i: int) -> Any:
        if i <= self.context - 1:
            st = self.lm.new_state(bos=True)
            start = 0
        else:
            st = self.lm.new_state(bos=False)
            start = i - self.context
        for w in words[start:i]:
            _, st = self.lm.advance(st, w)
        return st

    def _local_lm(self, state: Any, emitted: Sequence[str], following: Sequence[str],
                  eos: bool) -> float:
        return self.lm.window_logprob(state, emitted, following, eos)

    def build_edges(self, words: Sequence[str], adjacent: Sequence[bool],
                    protected: Sequence[bool], positions: set[int] | None) -> list[list[Edge]]:
        n = len(words)
        edges: list[list[Edge]] = [[_edge(i, i + 1, (w,), 0.0, None, None)]
                                   for i, w in enumerate(words)]
        todo = range(n) if positions is None else sorted(k for k in positions if 0 <= k < n)
        for i in todo:
            if protected[i]:
                continue
            subs = self._candidates(words, adjacent, protected, i)
            if subs:
                edges[i] = [self._keep(words, i), *self._prune(words, i, subs)]
        examined = set(todo)
        for i in todo:
            # a collocation replaces two words: both must be under examination
            if protected[i] or i + 1 not in examined:
                continue
            pairs = self._pairs(words, adjacent, protected, i)
            if not pairs:
                continue
            # Where both words survived pruning on their own, the beam already
            # has the collocation's path at the same score; a second edge would
            # only turn two one-word decisions into one two-word decision.
            first = {e.words[0] for e in edges[i][1:] if e.j == i + 1}
            second = {e.words[0] for e in edges[i + 1][1:] if e.j == i + 2}
            pairs = [p for p in pairs if not (p[1][0] in first and p[1][1] in second)]
            if pairs:
                edges[i] = [self._keep(words, i), *edges[i][1:], *self._prune(words, i, pairs)]
        return edges

    def _keep(self, words: Sequence[str], i: int) -> Edge:
        """Keeping the spun word at an examined position (it costs ``log_keep``)."""
        return _edge(i, i + 1, (words[i],), self.log_keep, None, None)

    def _candidates(self, words: Sequence[str], adjacent: Sequence[bool],
                    protected: Sequence[bool], i: int) -> list[_Sub]:
        """Substitutions for spans starting at ``i``, before pruning.

        Plain tuples: ``_prune`` makes Edges only for the ``max_candidates``
        it keeps.
        """
        n = len(words)
        subs: list[_Sub] = []
        j = i
        phrase: list[str] = []
        while j < n and j - i < self.max_span and not protected[j]:
            if j > i and not adjacent[j]:
                break
            phrase.append(words[j])
            j += 1
            for p in self.propose(tuple(phrase)):
                subs.append((j, p.words, self.log_sub + p.channel, p))
            if j - i < self.max_span and not self.gen.may_extend(" ".join(phrase)):
                break
        if self.fill is not None and self.gen.use_lm:
            subs.extend(self._fills(words, i, {w for k, w, _, _ in subs if k == i + 1}))
        return subs

    def _pairs(self, words: Sequence[str], adjacent: Sequence[bool],
               protected: Sequence[bool], i: int) -> list[_Sub]:
        """Collocations for the two words at ``i`` (see ``CandidateGenerator.propose_pair``).

        They are not pruned with the one-word candidates at ``i``: those are
        judged by a window that still holds the spun word at ``i + 1``, which is
        exactly what a collocation replaces. At most ``PAIR_K`` come back.
        """
        if (self.fill is None or self.max_span < 2 or i + 1 >= len(words)
                or not adjacent[i + 1] or protected[i + 1]):
            return []
        return [(i + 2, p.words, p.subs * self.log_sub + p.channel, p)
                for p in self.gen.propose_pair(words[i], words[i + 1], self.fill.successors)]

    def _fills(self, words: Sequence[str], i: int, have: set[tuple[str, ...]]) -> list[_Sub]:
        """Language-model proposals for the single word at ``i`` (see candidates/lmfill.py)."""
        assert self.fill is not None
        left = words[i - 1] if i > 0 else "<s>"
        right = words[i + 1] if i + 1 < len(words) else "</s>"
        fits = self.fill.fill(left, words[i], right)
        exclude = {w[0] for w in have if len(w) == 1}
        return [(i + 1, p.words, self.log_sub + p.channel, p)
                for p in self.gen.lm_proposals(words[i], fits, exclude, len(fits),
                                               f"the bigram table ('{left} _ {right}')")]

    def rebase(self, edges: list[list[Edge]]) -> list[list[Edge]]:
        """The same lattice with channel costs at the decoder's current rate."""
        out: list[list[Edge]] = []
        for group in edges:
            keep = group[0]
            cost = self.log_keep if len(group) > 1 else 0.0
            new = [Edge(keep.i, keep.j, keep.words, cost, None)]
            for e in group[1:]:
                assert e.proposal is not None
                new.append(Edge(e.i, e.j, e.words,
                                self.log_sub * e.proposal.subs + e.proposal.channel, e.proposal,
                                e.lm))
            out.append(new)
        return out

    def _prune(self, words: Sequence[str], i: int, subs: list[_Sub]) -> list[Edge]:
        """Keep the best ``max_candidates`` by local score against the spun context.

        Two stages, because common words have dozens of links: a cheap rank by
        channel plus the first word's log-prob after the left context (one
        kenlm call each), then the full local window for the survivors.
        Returns the kept edges, best first, each carrying its local LM score.
        """
        state = self._context_state(words, i)
        n = len(words)
        cw = self.cw
        if len(subs) > 2 * self.max_candidates:
            cheap = [(self.lm.next_logprob(state, sub[1][0]) + cw * sub[2], sub) for sub in subs]
            cheap.sort(key=lambda t: -t[0])
            subs = [sub for _, sub in cheap[: 2 * self.max_candidates]]
        window = self.lm.window_logprob
        ctx = self.context
        following: dict[int, Sequence[str]] = {}
        scored: list[tuple[float, float, _Sub]] = []
        for sub in subs:
            j = sub[0]
            after = following.get(j)
            if after is None:
                after = following[j] = words[j : j + ctx]
            lm = window(state, sub[1], after, j + ctx >= n)
            scored.append((lm + cw * sub[2], lm, sub))
        # reverse=True keeps equal scores in proposal order, like a key of -score
        scored.sort(key=itemgetter(0), reverse=True)
        return [_edge(i, j, w, channel, p, lm)
                for _, lm, (j, w, channel, p) in scored[: self.max_candidates]]

    def local_decisions(self, words: Sequence[str], edges: list[list[Edge]], *,
                        kept: bool = False, taken: Sequence[tuple[int, int]] = ()
                        ) -> list[Decision]:
        """Screen mode: decide each position against its spun neighbours, no beam.

        Cheaper than :meth:`decode` by the beam width and one pass; adjacent
        substitutions are judged against each other's spun text, which costs
        recall on densely spun sentences (measured in BENCHMARKS.md).

        Each span end gets what :meth:`_posterior` would compute; only the
        winning one becomes a :class:`Decision`, and only when a substitution
        outranks keeping the spun text (most examined positions keep it).

        ``kept=True`` also returns the positions where keeping wins, with the
        best substitution as ``chosen`` and a low ``p_changed``: the accurate
        tier reopens them, because its neural model may disagree with the
        n-gram model. Spans overlapping ``taken`` (decisions already made)
        are skipped.
        """
        n = len(words)
        ctx = self.context
        cw = self.cw
        out: list[Decision] = []
        last_end = 0
        blocked = [False] * n
        for a, b in taken:
            for k in range(max(0, a), min(n, b)):
                blocked[k] = True
        for i in range(n):
            group = edges[i]
            if len(group) < 2 or i < last_end or blocked[i]:
                continue
            state = self._context_state(words, i)
            best: tuple[float, int, list[Edge], list[float], list[float], list[float]] | None = None
            for j in dict.fromkeys(e.j for e in group[1:]):
                if any(blocked[i:j]):
                    continue
                following = words[j : j + ctx]
                eos = j + ctx >= n
                alts: list[Edge] = []
                alt_lms: list[float] = []
                for e in group:
                    if e.j == j and e.proposal is not None:
                        alts.append(e)
                        alt_lms.append(e.lm if e.lm is not None
                                       else self._local_lm(state, e.words, following, eos))
                keep = Edge(i, j, tuple(words[i:j]), sum(edges[k][0].channel for k in range(i, j)),
                            None)
                alts.append(keep)
                alt_lms.append(self._local_lm(state, keep.words, following, eos))
                scores = [lm + cw * e.channel for lm, e in zip(alt_lms, alts, strict=True)]
                post = softmax(scores)
                p_changed = 1.0 - post[-1]
                if best is None or p_changed > best[0]:
                    best = (p_changed, j, alts, alt_lms, scores, post)
            if best is None:
                continue
            p_changed, j, alts, alt_lms, scores, post = best
            # The stable sort below puts the first best posterior first: keeping
            # the spun text (last) leads only when it beats every substitution.
            if len(post) == 1 or (post[-1] > max(post[:-1]) and not kept):
                continue
            ranked = tuple(sorted(
                (Alternative(e, sc, lm, p)
                 for e, sc, lm, p in zip(alts, scores, alt_lms, post, strict=True)),
                key=lambda a: -a.posterior,
            ))
            chosen = next(a.edge for a in ranked if a.edge.proposal is not None)
            out.append(Decision(i, j, chosen, ranked, p_changed))
            last_end = j
        return out

    # -- search ------------------------------------------------------------------
    def decode(self, words: Sequence[str], edges: list[list[Edge]]) -> list[Decision]:
        n = len(words)
        if n == 0:
            return []
        if all(len(e) == 1 for e in edges):
            return []  # nothing to choose: the spun sentence is the only path
        layers: list[dict[Any, _Hyp]] = [dict() for _ in range(n + 1)]
        start = self.lm.new_state(bos=True)
        layers[0][start] = _Hyp(0.0, start, None, None)
        for i in range(n):
            layer = layers[i]
            if not layer:
                continue
            hyps = heapq.nlargest(self.beam, layer.values(), key=lambda h: h.score)
            for h in hyps:
                for e in edges[i]:
                    st = h.state
                    lm = 0.0
                    for w in e.words:
                        lp, st = self.lm.advance(st, w)
                        lm += lp
                    score = h.score + lm + self.cw * e.channel
                    target = layers[e.j]
                    got = target.get(st)
                    if got is None or score > got.score:
                        target[st] = _Hyp(score, st, h, e)
        final: _Hyp | None = None
        best = float("-inf")
        for h in layers[n].values():
            lp, _ = self.lm.advance(h.state, "</s>")
            if h.score + lp > best:
                best, final = h.score + lp, h
        path: list[tuple[_Hyp, Edge]] = []
        node = final
        while node is not None and node.prev is not None and node.edge is not None:
            path.append((node.prev, node.edge))
            node = node.prev
        path.reverse()
        out_words: list[str] = []
        starts: list[int] = []
        for _, e in path:
            starts.append(len(out_words))
            out_words.extend(e.words)
        decisions: list[Decision] = []
        for k, (prev, e) in enumerate(path):
            if e.proposal is None:
                continue
            following_start = starts[k] + len(e.words)
            following = out_words[following_start : following_start + self.context]
            eos = following_start + self.context >= len(out_words)
            decisions.append(self._posterior(words, edges, prev.state, e, following, eos))
        return decisions

    def _posterior(self, words: Sequence[str], edges: list[list[Edge]], state: Any,
                   chosen: Edge, following: Sequence[str], eos: bool) -> Decision:
        i, j = chosen.i, chosen.j
        alts: list[Edge] = [e for e in edges[i] if e.j == j and e.proposal is not None]
        keep_words = tuple(words[i:j])
        keep_channel = sum(edges[k][0].channel for k in range(i, j))
        keep = Edge(i, j, keep_words, keep_channel, None)
        alts.append(keep)
        lms = [self._local_lm(state, e.words, following, eos) for e in alts]
        scores = [lm + self.cw * e.channel for lm, e in zip(lms, alts, strict=True)]
        post = softmax(scores)
        ranked = sorted(
            (Alternative(e, s, lm, p) for e, s, lm, p in zip(alts, scores, lms, post, strict=True)),
            key=lambda a: -a.posterior,
        )
        p_keep = next(a.posterior for a in ranked if a.edge.proposal is None)
        return Decision(i, j, chosen, tuple(ranked), 1.0 - p_keep)


def is_protected(tok: Token, sentence_initial: bool, is_common: Callable[[str], bool]) -> bool:
    """Spinners keep names, numbers and acronyms; so does the decoder.

    A capitalised word mid-sentence is a name unless its lower-case form (or a
    lemma of it) is a common word: "Safety Council" may be spun, "Gujarat"
    and "Pence" are kept. All-caps tokens (acronyms, datelines) are kept.
    """
    text = tok.text
    if not text.isalpha() and any(c.isdigit() for c in text):
        return True
    if len(text) > 1 and text.isupper():
        return True
    if text[:1].isupper() and not sentence_initial:
        return not any(is_common(lem) for lem in morph.lemmas(tok.norm))
    return False


def word_view(sentence: Sequence[Token], is_common: Callable[[str], bool]
              ) -> tuple[list[Token], list[bool], list[bool]]:
    """Word tokens of a sentence, adjacency flags and protection flags.

    ``adjacent[k]`` is False when punctuation separates word k from word k-1
    (a span never crosses punctuation).
    """
    toks: list[Token] = []
    adjacent: list[bool] = []
    protected: list[bool] = []
    prev_was_word = False
    for t in sentence:
        if t.norm[:1].isalnum():
            text = t.text
            # Most words are lower-case letters, which is_protected always
            # keeps unprotected: no digit, not all caps, no capital initial.
            if text.islower() and text.isalpha():
                protected.append(False)
            else:
                protected.append(is_protected(t, not toks, is_common))
            toks.append(t)
            adjacent.append(prev_was_word)
            prev_was_word = True
        else:
            prev_was_word = False
    return toks, adjacent, protected
