"""The channel model P(spun | original).

A spinner walks the original text, and for each word or phrase decides to
substitute it (probability ``p_sub``) and, if so, picks one entry of its
synonym list. The list is unknown, so the thesaurus fan-out (the number of
synonyms the original has) stands in for it: choosing among many synonyms
makes any one of them less likely, with an exponent ``beta`` fitted on data
because real spinners prefer a few favourites over a uniform pick.

Parameters are not hand-set per word: they are global numbers estimated by
``bench/fit_channel.py`` on synthetic spins of the training split and stored
in ``unspin/data/channel.json`` with the command that fitted them. They are
statistics of the *spinning process*, not of any corpus's text.
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
