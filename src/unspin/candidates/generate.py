"""Propose possible originals for a span of spun tokens, with channel evidence.

For a span (1 to ``max_span_tokens`` word tokens) the generator asks every
enabled source what original could have been spun into it:

* inverse thesauri (``moby``, ``wordnet``, ``mythes``): the surface phrase,
  then its lemmas; an original found through a lemma is re-inflected with the
  spun word's tag ("instances" -> lemma "instance" -> "case" -> "cases");
* ``learned`` tables (surface phrases, as aligned);
* ``fingerprints`` (tortured phrase -> expected phrase), when lists are loaded;
* ``collocation`` (``propose_pair``): two adjacent spun words read as one term,
  pairs of their originals that the language model's bigram table joins.

Each proposal carries ``channel``, the log-probability log P(spun | original)
under :class:`unspin.decode.channel.ChannelModel`, and a human-readable
``detail`` saying which link produced it. Results are memoised per process
by the lower-cased span, so a corpus pays for each distinct phrase once.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter

from unspin.candidates.learned import LearnedPair, LearnedTable
from unspin.candidates.lmfill import content_tags
from unspin.decode.channel import ChannelModel
from unspin.resources.inverse import (
    MAX_LINKS_PER_KEY,
    PRIOR_FLOOR,
    SEP,
    InverseEntry,
    InverseIndex,
    mask_fields,
    parse_link,
    static_rank,
)
from unspin.resources.thesauri import THESAURI
from unspin.text import morph
from unspin.text.tokenize import words as _words

#: The words most likely after a word, with log P(next | word): the LM's
#: bigram table as ``candidates/lmfill.FillIndex.successors`` reads it.
Successors = Callable[[str], Mapping[str, float]]


@lru_cache(maxsize=200_000)
def lm_tokens(phrase: str) -> tuple[str, ...]:
    """The LM tokens of a phrase, tokenised exactly like input text."""
    parts = phrase.split(" ")
    if all(w.isascii() and w.isalpha() for w in parts):
        # ASCII letters between single spaces: the tokeniser would make each
        # part one word token, lower-cased (most thesaurus entries; no regex)
        return tuple(w.lower() for w in parts)
    return tuple(w for w in _words(phrase) if w[:1].isalnum())


@dataclass(frozen=True, slots=True)
class Proposal:
    """One candidate original for a span, before decoding."""

    text: str  # lower-case original phrase (inflected)
    words: tuple[str, ...]  # its LM tokens
    sources: tuple[str, ...]
    channel: float  # natural-log P(pick spun | original substituted)
    detail: str
    reverse: bool = False  # only a reverse thesaurus link supports it
    inflected: bool = False  # found through a lemma and re-inflected
    #: Substitutions the proposal stands for: 2 for a collocation, one word
    #: for each spun word, so the decoder charges the spin rate twice;
    #: ``channel`` is then the sum of the two words' channels.
    subs: int = 1
    #: A collocation's sources per word (its ``sources`` are their union).
    word_sources: tuple[tuple[str, ...], ...] = ()


#: Thesaurus links per span in screen mode, whose budget is speed: the cut
#: follows channel plus prior, so the frequent originals stay (candidate
#: recall for both settings is in BENCHMARKS.md).
SCREEN_LINKS = 16

#: Links per key for ``propose_wide``: all a key stores
#: (``resources.inverse.MAX_LINKS_PER_KEY``) for a word and its lemma.
WIDE_LINKS = 2 * MAX_LINKS_PER_KEY

#: Common thesaurus neighbours two words need before an LM proposal relating
#: them is kept: one or two shared words are chance among hundreds of links
#: ("dying" and "official" share two), true spinner pairs share more
#: ("assortment" and "number" share 19).
MIN_SHARED = 3

#: Weight of the original's context-free prior (its web unigram log-prob) when
#: thesaurus links are cut to the best few, before the language model sees
#: them in context. Without it the cut keeps rare, specific originals and drops
#: the frequent words news spinners actually start from ("place" <- "time").
PRIOR_WEIGHT = 0.5

#: Collocation proposals kept per pair of adjacent spun words, best by the
#: two links' channels plus log P(second | first) from the LM's bigram table.
#: The decoder judges them in context like any candidate; this only bounds
#: the work (a pair of 96-link words has thousands of combinations).
PAIR_K = 4

#: Rounding allowance when a link's static rank bounds its score: the two sum
#: the same terms in different orders.
RANK_MARGIN = 1e-9


class CandidateGenerator:
    def __init__(
        self,
        inverse: InverseIndex | None,
        learned: LearnedTable | None,
        channel: ChannelModel,
        sources: Sequence[str],
        fingerprint_pairs: Sequence[tuple[str, str, str]] = (),
        max_candidates: int = 12,
    ) -> None:
        self.inverse = inverse
        self.channel = channel
        self.thesauri = tuple(s for s in sources if s in THESAURI)
        self.learned: dict[str, list[LearnedPair]] = (
            learned.by_spun() if learned is not None else {})
        #: A table with at least one pair is in use: its links are proposed,
        #: and the span model weighs a link's absence differently.
        self.use_learned = "learned" in sources and bool(self.learned)
        self.learned_prefixes: set[str] = set()
        for key in self.learned:
            parts = key.split(" ")
            for k in range(1, len(parts)):
                self.learned_prefixes.add(" ".join(parts[:k]))
        self.fingerprints: dict[str, list[tuple[str, str]]] = {}
        if "fingerprints" in sources:
            for spun, expected, list_name in fingerprint_pairs:
                self.fingerprints.setdefault(spun.lower(), []).append((expected.lower(), list_name))
                parts = spun.lower().split(" ")
                for k in range(1, len(parts)):
                    self.learned_prefixes.add(" ".join(parts[:k]))
        #: Adjacent spun words are also read as one collocation (``propose_pair``).
        self.use_collocations = "collocation" in sources
        #: Language-model gap fills are proposed (source "lm").
        self.use_lm = "lm" in sources
        self.max_candidates = max_candidates
        #: Thesaurus links kept per span before inflection and LM pruning.
        self.max_links = 8 * max_candidates
        self.propose = lru_cache(maxsize=200_000)(self._propose)
        #: Screen mode's proposals: the same sources, only the ``SCREEN_LINKS``
        #: best thesaurus links by channel and prior (a separate cache).
        self.propose_screen = lru_cache(maxsize=200_000)(
            lambda span: self._propose(span, SCREEN_LINKS))
        #: Every link of a span's keys (``WIDE_LINKS``), for a model that scores
        #: them all at once: the accurate tier's neural collocations read one
        #: distribution per word, so the cut that bounds n-gram work is not needed.
        self.propose_wide = lru_cache(maxsize=50_000)(
            lambda span: self._propose(span, WIDE_LINKS))
        #: Per (first, second, successor table): the pair's collocations.
        self.propose_pair = lru_cache(maxsize=100_000)(self._propose_pair)
        #: Asked for every span the decoder grows, most of them common words.
        self.may_extend = lru_cache(maxsize=200_000)(self._may_extend)
        #: A lemma key ("case") serves every inflection of it ("cases", "cased"),
        #: so its scored, sorted links are kept rather than re-ranked per span.
        self._ranked_links = lru_cache(maxsize=100_000)(self._rank_links)
        self._enabled: dict[tuple[str, ...], tuple[str, ...]] = {}
        self._link_channel: dict[tuple[int, tuple[str, ...], bool, bool], float | None] = {}
        #: The same scores keyed on a link's stored mask and fan-out strings, one
        #: table per ``inflected`` (read for every link a cold lookup scores).
        self._raw_channel: dict[bool, dict[tuple[str, str], float | None]] = {
            False: {}, True: {}}

    # -- span enumeration helpers -------------------------------------------------
    def _may_extend(self, phrase: str) -> bool:
        """Could a longer span starting with ``phrase`` have proposals?"""
        if phrase in self.learned_prefixes:
            return True
        if self.inverse is not None and self.thesauri:
            if self.inverse.has_prefix(phrase + " "):
                return True
            # lemma of the first word ("talked about" -> "talk about")
            first, _, rest = phrase.partition(" ")
            for lemma in morph.lemmas(first)[1:]:
                if self.inverse.has_prefix(f"{lemma} {rest}".rstrip() + " "):
                    return True
        return False

    def related(self, spun: str, candidate: str) -> tuple[float, tuple[str, ...]]:
        """How closely the thesauri relate two words in two hops.

        Spinners' private tables are mostly thesaurus entries chained or
        merged ("number" -> "variety" -> "assortment"): an original that no
        thesaurus links to the spun word directly is still a plausible
        substitution when both are linked to many common words. Returns the
        Jaccard overlap of their neighbourhoods (0.0 under ``MIN_SHARED``
        common neighbours) and a few of the shared words, for the evidence.
        Language-model proposals must pass this test (``lm_proposals``).
        """
        if self.inverse is None:
            return 0.0, ()
        a = self._neighbours(spun)
        b = self._neighbours(candidate)
        common = a & b
        if len(common) < MIN_SHARED:
            return 0.0, ()
        return len(common) / len(a | b), tuple(w.decode() for w in sorted(common)[:3])

    def lm_proposals(self, spun: str, fits: Sequence[tuple[str, float]], exclude: set[str],
                     limit: int, how: str) -> list[Proposal]:
        """Source "lm": words a language model fits where ``spun`` stands, kept when
        they share its part of speech and the thesauri relate them (see ``related``).

        ``fits`` are (word, LM score) pairs, best first; ``how`` says which model
        fitted them, for the evidence.
        """
        tags = content_tags(spun)
        if not tags:
            return []
        out: list[Proposal] = []
        for word, score in fits:
            if word == spun or word in exclude or not tags & content_tags(word):
                continue
            similarity, via = self.related(spun, word)
            if not similarity:
                continue
            out.append(Proposal(
                word, (word,), ("lm",), self.channel.lm_fill(similarity),
                f"lm: {how} fits '{word}' here ({score:.1f} nats); no thesaurus links it to "
                f"'{spun}', but both are linked to {', '.join(repr(v) for v in via)} "
                f"(overlap {similarity:.3f})"))
            if len(out) == limit:
                break
        return out

    @lru_cache(maxsize=100_000)  # noqa: B019 - one generator per bundle, lives with it
    def _neighbours(self, word: str) -> frozenset[bytes]:
        assert self.inverse is not None
        out = self.inverse.originals(word)
        for lemma in morph.lemmas(word)[1:]:
            out = out | self.inverse.originals(lemma)
        return out

    # -- proposals ---------------------------------------------------------------
    def _propose(self, span: tuple[str, ...], max_links: int | None = None
                 ) -> tuple[Proposal, ...]:
        phrase = " ".join(span)
        found: dict[str, Proposal] = {}

        def keep(p: Proposal) -> None:
            if p.text == phrase:
                return
            got = found.get(p.text)
            if got is None or p.channel > got.channel:
                sources = (p.sources if got is None
                           else tuple(dict.fromkeys(p.sources + got.sources)))
                found[p.text] = Proposal(p.text, p.words, sources, p.channel, p.detail,
                                         p.reverse, p.inflected)
            elif got is not None:
                merged = tuple(dict.fromkeys(got.sources + p.sources))
                found[p.text] = Proposal(got.text, got.words, merged, got.channel, got.detail,
                                         got.reverse, got.inflected)

        if self.inverse is not None and self.thesauri:
            # Rank links by channel score first and inflect only the best few:
            # common words have hundreds of links, inflection is the slow part.
            # Each key's own best ``limit`` contain every link of the overall
            # best ``limit``, and the stable sort keeps ties in key order.
            limit = max_links or self.max_links
            links: list[tuple[float, str, InverseEntry, str | None]] = []
            for key, tag in [(phrase, None), *self._lemma_variants(span)]:
                scores, entries = self._ranked_links(key, tag is not None, limit)
                for score, entry in zip(scores, entries, strict=True):
                    links.append((score, key, entry, tag))
            links.sort(key=lambda t: -t[0])
            for _, key, entry, tag in links[:limit]:
                p = self._from_thesaurus(key, entry, tag)
                if p is not None:
                    keep(p)
        if self.use_learned:
            for pair in self.learned.get(phrase, ()):
                keep(Proposal(pair.original, lm_tokens(pair.original), ("learned",),
                              self.channel.learned(pair.count, pair.docs),
                              f"learned: '{pair.spun}' seen {pair.count}x for '{pair.original}'"
                              f" ({pair.status})"))
        for expected, list_name in self.fingerprints.get(phrase, ()):
            keep(Proposal(expected, lm_tokens(expected), ("fingerprints",),
                          self.channel.fingerprint(),
                          f"fingerprint list '{list_name}': '{phrase}' -> '{expected}'"))
        ranked = sorted(found.values(), key=lambda p: -p.channel)
        return tuple(ranked)

    def _propose_pair(self, first: str, second: str, successors: Successors
                      ) -> tuple[Proposal, ...]:
        """Source "collocation": two adjacent spun words read as one spun term.

        Tortured phrases are collocations spun word by word ("artificial
        intelligence" -> "counterfeit consciousness", "warning shots" ->
        "caution pictures"). Each word's own candidates are judged against its
        spun neighbour ("intelligence" after "counterfeit" reads badly), so
        neither survives pruning alone. Here every pair of the two words'
        one-word thesaurus originals that the language model's bigram table
        lists together (``successors``: the words most likely after a word,
        with log P(next | word)) is proposed for the two-word span, with the
        two links' channels summed (``subs`` = 2: the decoder charges the spin
        rate once per replaced word). Both words must be content words and
        both must change: one changed word is an ordinary proposal.
        """
        if not self.use_collocations or not (content_tags(first) and content_tags(second)):
            return ()
        seconds = {p.text: p for p in self.propose((second,)) if len(p.words) == 1}
        if not seconds:
            return ()
        scored: list[tuple[float, Proposal, Proposal, float]] = []
        for a in self.propose((first,)):
            if len(a.words) != 1:
                continue
            for word, lp in successors(a.text).items():
                b = seconds.get(word)
                if b is not None:
                    scored.append((a.channel + b.channel + lp, a, b, lp))
        scored.sort(key=lambda t: (-t[0], t[1].text, t[2].text))
        out: list[Proposal] = []
        for _, a, b, lp in scored[:PAIR_K]:
            sources = tuple(dict.fromkeys((*a.sources, *b.sources, "collocation")))
            out.append(Proposal(
                f"{a.text} {b.text}", (a.text, b.text), sources, a.channel + b.channel,
                f"collocation: '{a.text} {b.text}' is a bigram of the language model "
                f"(log P('{b.text}' | '{a.text}') {lp:.1f}); {a.detail}; {b.detail}",
                a.reverse and b.reverse, a.inflected or b.inflected, subs=2,
                word_sources=((*a.sources, "collocation"), (*b.sources, "collocation"))))
        return tuple(out)

    def _rank_links(self, key: str, inflected: bool, limit: int
                    ) -> tuple[tuple[float, ...], tuple[InverseEntry, ...]]:
        """Scores and entries of one key's ``limit`` best links (channel plus prior).

        Common keys have 160 links, each scored for every new span that
        reaches the key. A link is scored from its raw fields, its channel
        score memoised on the stored mask and fan-out (a few thousand distinct
        pairs), and an entry is built only for the links kept.

        Two flat tuples rather than pairs: the cache lives as long as the
        process and the garbage collector walks every tuple holding an entry.
        """
        assert self.inverse is not None
        links = self.inverse.links(key)
        memo = self._raw_channel[inflected]
        scored: list[tuple[float, int]] = []
        # The links are stored best first by static rank, and no link scores
        # more than ``slack`` above its static rank: once the link just read,
        # plus ``slack``, falls below the ``limit``-th best score so far, none
        # after it can enter the best ``limit`` (see ``_rank_slack``).
        slack = self._rank_slack(inflected)
        top: list[float] = []  # min-heap of the best ``limit`` scores
        for k, link in enumerate(links):
            _, mask, fan, prior = link.split(SEP)
            try:
                channel = memo[mask, fan]
            except KeyError:
                names, reverse_only = mask_fields(mask)
                channel = memo[mask, fan] = self._link_channel_of(
                    int(fan), names, reverse_only, inflected)
            if channel is None:
                continue
            score = channel + PRIOR_WEIGHT * float(prior)
            scored.append((score, k))
            if slack is None:
                continue
            if len(top) < limit:
                heapq.heappush(top, score)
            elif score > top[0]:
                heapq.heapreplace(top, score)
            if len(top) == limit and k % 4 == 3 and (
                    static_rank(int(mask), int(fan), float(prior)) + slack
                    < top[0] - RANK_MARGIN):
                break
        # reverse=True keeps equal scores in index order, like a key of -score
        scored.sort(key=itemgetter(0), reverse=True)
        best = scored[:limit]
        return tuple(score for score, _ in best), tuple(parse_link(links[k]) for _, k in best)

    @lru_cache(maxsize=2)  # noqa: B019 - two values per generator, which lives with its bundle
    def _rank_slack(self, inflected: bool) -> float | None:
        """The most any link's score (channel plus weighted prior) can exceed its
        static rank (``resources.inverse.static_rank``), or None when that is
        unbounded (a channel that rewards fan-out more than the static rank does).

        With the shipped channel the two agree up to the inflection penalty, so
        the bound is 0 (-0.2 for inflected keys) and screen mode, which keeps
        16 links, reads about as many.
        """
        ch = self.channel
        if ch.beta < 0.5:
            return None  # (0.5 - beta) * log(fan-out) grows without bound
        n = len(THESAURI)
        slack = max(0.0, (ch.agree_bonus - 0.5) * (n - 1))  # enabled vs listed sources
        slack += max(0.0, 1.0 - ch.reverse_penalty)  # the static rank charges 1.0
        slack += -ch.inflect_penalty if inflected else 0.0
        # the prior, in [3 * PRIOR_FLOOR, 0], weighs 0.5 in the static rank
        slack += max(0.0, (PRIOR_WEIGHT - 0.5) * 3 * PRIOR_FLOOR)
        return slack

    def _link_channel_of(self, fanout: int, sources: tuple[str, ...], reverse_only: bool,
                         inflected: bool) -> float | None:
        """Channel log P(pick) of a link (None: no enabled thesaurus lists it),
        memoised on what it depends on (a few hundred distinct argument tuples)."""
        args = (fanout, sources, reverse_only, inflected)
        try:
            return self._link_channel[args]
        except KeyError:
            enabled = self._thesaurus_sources(sources)
            channel = self._link_channel[args] = (
                self.channel.thesaurus(fanout, len(enabled), reverse_only, inflected)
                if enabled else None)
            return channel

    def _thesaurus_sources(self, sources: tuple[str, ...]) -> tuple[str, ...]:
        """The enabled thesauri among a link's sources (a handful of distinct tuples)."""
        got = self._enabled.get(sources)
        if got is None:
            got = self._enabled[sources] = tuple(s for s in sources if s in self.thesauri)
        return got

    def _lemma_variants(self, span: tuple[str, ...]) -> list[tuple[str, str]]:
        """(lemmatised phrase, Penn tag) pairs: head noun last, verb first."""
        out: list[tuple[str, str]] = []
        if len(span) == 1:
            for lemma, tag in morph.tags(span[0]):
                if lemma != span[0]:
                    out.append((lemma, tag))
            return out
        first, last = span[0], span[-1]
        for lemma, tag in morph.tags(first):
            if lemma != first and tag.startswith("VB"):
                out.append((" ".join((lemma, *span[1:])), tag))
        for lemma, tag in morph.tags(last):
            if lemma != last and tag == "NNS":
                out.append((" ".join((*span[:-1], lemma)), tag))
        return out

    def _from_thesaurus(self, key: str, entry: InverseEntry, tag: str | None) -> Proposal | None:
        sources = self._thesaurus_sources(entry.sources)
        if not sources:
            return None
        original = entry.original
        if tag is not None:
            inflected = morph.inflect(entry.original, tag)
            if inflected is None:
                return None
            original = inflected
        words = lm_tokens(original)
        if not words:
            return None
        channel = self._link_channel_of(entry.fanout, entry.sources, entry.reverse_only,
                                        tag is not None)
        assert channel is not None  # it has enabled sources
        how = "reverse link" if entry.reverse_only else "listed under"
        detail = (f"{'+'.join(sources)}: '{key}' {how} '{entry.original}'"
                  f" (fan-out {entry.fanout}{', re-inflected ' + tag if tag else ''})")
        return Proposal(original, words, sources, channel, detail, entry.reverse_only,
                        tag is not None)
