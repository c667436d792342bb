"""The channel model P(spun | original).

A spinner walks the original text, and for each word or phrase decides to
substitute it (probability ``p_sub``) and, if so, picks one entry of its
synonym list. The list is unknown, so the thesaurus fan-out (the number of
synonyms the original has) stands in for it: choosing among many synonyms
makes any one of them less likely, with an exponent ``beta`` fitted on data
because real spinners prefer a few favourites over a uniform pick.

Parameters are not set per word: they are a handful of global numbers that
describe the *spinning process*, not any corpus's text. The defaults below
are used unless ``unspin/data/channel.json`` ships fitted values (it does not
yet). What turns channel scores into decisions is fitted on data: the span
and document models (``bench/fit_model.py``) weigh ``pick`` and the other
channel features against the language model, so a miscalibrated constant
here is corrected downstream. ``p_unlinked`` is read off the candidate-recall
table of ``python bench/run.py --section candidates``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, fields
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class ChannelModel:
    #: Prior mean probability that a spinnable word was substituted (before the
    #: document's own evidence is seen).
    p_sub: float = 0.03
    #: Weight of that prior, in pseudo-positions.
    prior_strength: float = 50.0
    #: Fan-out exponent: log P(pick) = -beta * log(fanout).
    beta: float = 0.5
    #: Log bonus for each additional thesaurus that agrees on a link.
    agree_bonus: float = 0.5
    #: Log penalty for a link that exists only in the reverse direction.
    reverse_penalty: float = 1.0
    #: Log penalty when the link needed lemmatising and re-inflection.
    inflect_penalty: float = 0.2
    #: Learned-table pick: log P = log(count / (count + learned_k)).
    learned_k: float = 1.0
    #: Fingerprint links are curated: log P = fingerprint_bonus.
    fingerprint_bonus: float = 0.0
    #: Share of substitutions whose spun side no thesaurus links to anything:
    #: about 0.2 for simulator profile c, whose phrase table is outside every
    #: thesaurus (0.199 in ``bench/run.py --section candidates``; 0.18 on the
    #: smaller sample this value was first read from).
    p_unlinked: float = 0.18
    #: Provenance of the numbers above (the fitting command and data).
    provenance: str = "defaults"

    # The pick probabilities below exclude the substitution prior: the decoder
    # adds log p_sub (per document, see ``spin_rate``) so cached proposals stay
    # valid when the document's estimated spin rate changes.
    def thesaurus(self, fanout: int, n_sources: int, reverse_only: bool, inflected: bool) -> float:
        lp = -self.beta * math.log(max(1, fanout))
        lp += self.agree_bonus * (n_sources - 1)
        if reverse_only:
            lp -= self.reverse_penalty
        if inflected:
            lp -= self.inflect_penalty
        return lp

    def learned(self, count: int, docs: int) -> float:
        return math.log(count / (count + self.learned_k))

    def fingerprint(self) -> float:
        return self.fingerprint_bonus

    def lm_fill(self, similarity: float) -> float:
        """An LM proposal: an unlinked substitution between related words.

        P(spun | original) = P(unlinked) x the Jaccard overlap of the two
        words' thesaurus neighbourhoods (``CandidateGenerator.related``): the
        more of its neighbours a spinner's table could have chained through,
        the likelier the pick.
        """
        return math.log(self.p_unlinked) + math.log(max(1e-6, similarity))

    def spin_rate(self, expected_subs: float, spinnable: int) -> float:
        """Posterior-mean spin rate of one document under a Beta prior.

        The prior has mean ``p_sub`` and weight ``prior_strength`` pseudo-
        positions: a clean document keeps a low rate, so weak evidence is not
        enough to edit it, while a heavily spun one raises its own rate and
        lets moderate evidence through (empirical Bayes, one step).
        """
        a = self.p_sub * self.prior_strength
        return min(0.6, (a + expected_subs) / (self.prior_strength + spinnable))

    def to_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChannelModel:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def default_channel() -> ChannelModel:
    """The fitted parameters shipped in the package (or the defaults)."""
    try:
        raw = resources.files("unspin.data").joinpath("channel.json").read_text(encoding="utf-8")
    except (FileNotFoundError, ModuleNotFoundError):
        return ChannelModel()
    return ChannelModel.from_json(json.loads(raw))
