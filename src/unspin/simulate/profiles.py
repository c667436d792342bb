"""Spinner profiles: four styles of machine spinning seen in the wild.

A profile is plain data; :func:`unspin.simulate.spin` interprets it. ``rate``
is the fraction of *eligible* tokens (content words that are not protected
names, numbers or quotes) that get swapped; when a profile gives a range, the
rate of each document is drawn from it with the document's seed, so a corpus
mixes lightly and heavily spun documents the way a content farm does.

==========  =============================================================
profile     imitates
==========  =============================================================
``a``       word-level Moby spinner: lemma-aware, keeps inflection, picks
            common synonyms (rate 20-40 %)
``b``       WordNet / LibreOffice-thesaurus spinner that ignores sense and
            sometimes part of speech ("cases" -> "encases")
``c``       phrase-level spinner with a house table of idioms and function
            words ("was" -> "used to be"), plus a few word swaps
``d``       SpinnerChief-like, high rate (~50 %), multiword synonyms allowed
==========  =============================================================
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    description: str
    #: thesauri (``unspin.resources.thesauri`` names) word swaps draw from
    thesauri: tuple[str, ...]
    #: (low, high) word-swap rate over eligible tokens; drawn per document
    rate: tuple[float, float]
    #: probability a phrase-table match is rewritten (profile c only)
    phrase_rate: float = 0.0
    #: allow multiword synonyms for single words ("help" -> "lend a hand")
    multiword: bool = False
    #: how many of the most frequent synonyms the choice is made from;
    #: 0 means any synonym (wrong senses included)
    top_k: int = 5
    #: probability of inflecting with a tag of another part of speech
    wrong_pos: float = 0.0
    #: minimum wordfreq Zipf frequency of a synonym (plausibility filter)
    min_zipf: float = 3.0


PROFILES: dict[str, Profile] = {
    "a": Profile(
        name="a",
        description="word-level Moby spinner, lemma-aware, common synonyms, rate 20-40%",
        thesauri=("moby",),
        rate=(0.20, 0.40),
        top_k=5,
        min_zipf=3.0,
    ),
    "b": Profile(
        name="b",
        description="WordNet/mythes spinner with wrong-sense and wrong-POS swaps",
        thesauri=("wordnet", "mythes"),
        rate=(0.20, 0.30),
        top_k=0,
        wrong_pos=0.15,
        min_zipf=2.0,
    ),
    "c": Profile(
        name="c",
        description="phrase-level spinner (idioms, function words) plus some word swaps",
        thesauri=("moby",),
        rate=(0.05, 0.10),
        phrase_rate=0.75,
        top_k=5,
        min_zipf=3.0,
    ),
    "d": Profile(
        name="d",
        description="SpinnerChief-like high-rate spinner (~50%), multiword synonyms",
        thesauri=("moby", "mythes"),
        rate=(0.45, 0.55),
        multiword=True,
        top_k=10,
        min_zipf=2.5,
    ),
}


def get_profile(name: str) -> Profile:
    """Look up a profile by name; unknown names raise a ValueError listing the valid ones."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(
            f"unknown spinner profile {name!r}; valid profiles: {', '.join(PROFILES)}"
        ) from None
