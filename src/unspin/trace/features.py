"""Spin-invariant features of a text: what a spinner leaves alone.

Spinners are configured to keep names, numbers, dates and quotations (a
spun copy that changed "Boeing" or "2,902" would be useless to a content
farm), and they swap only a fraction of the content words (20-50 %). So a
spun copy and its source share:

* **immutables** -- names (capitalised tokens that do not start a sentence,
  or that open a multi-word name there), all-capitals tokens, numbers
  (dates are names plus numbers), and the words inside double quotes;
* **immutable sequences** -- consecutive immutables in reading order
  ("Boeing|747", "March|3"), far more specific than either alone;
* **content words** -- the content words that survived spinning; at a 50 %
  swap rate half of them remain, and their rarity (IDF) makes them count.

Word shingles of the raw text do not survive: at a 30 % swap rate almost
every 3-shingle contains a swapped word. That is why plain MinHash fails on
spun text, and why these features are kept separate by *kind*: the index
stores each kind's weight and the query weighs matches by kind times IDF.

Features are 63-bit integers (BLAKE2b of ``kind:value``), so an index stores
8 bytes per feature whatever the vocabulary, and shards agree on them.

>>> # a sentence-initial word is not a name on its own: spinners may swap it
>>> f = extract_features('Boeing said on March 3 it sold 12 jets to "Air India".')
>>> sorted(v for k, v in f.values if k == "name")
['air', 'india', 'march']
>>> sorted(v for k, v in f.values if k == "number")
['12', '3']
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from unspin.text.immutables import token_roles
from unspin.text.tokenize import Token, tokenize

#: Feature kinds, in the order their default weights are listed.
KINDS = ("name", "number", "quote", "sequence", "word")

#: Default weight of a match of each kind (multiplied by the feature's IDF).
#: Immutables survive every spinner, content words only with probability
#: 1 - rate, so immutables weigh more.
DEFAULT_WEIGHTS: dict[str, float] = {
    "name": 2.0,
    "number": 2.0,
    "quote": 1.5,
    "sequence": 2.5,
    "word": 1.0,
}

#: Function words: never features (they carry no identity, and profile-c
#: spinners rewrite them anyway).
STOP_WORDS = frozenset(
    [
        "a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and",
        "any", "are", "as", "at", "be", "because", "been", "before", "being", "below",
        "between", "both", "but", "by", "can", "cannot", "could", "did", "do", "does", "doing",
        "down", "during", "each", "either", "few", "for", "from", "further", "had", "has",
        "have", "having", "he", "her", "here", "hers", "herself", "him", "himself", "his",
        "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "me", "more",
        "most", "my", "myself", "no", "nor", "not", "now", "of", "off", "on", "once", "only",
        "or", "other", "our", "ours", "ourselves", "out", "over", "own", "same", "she",
        "should", "so", "some", "such", "than", "that", "the", "their", "theirs", "them",
        "themselves", "then", "there", "these", "they", "this", "those", "through", "to", "too",
        "under", "until", "up", "upon", "very", "was", "we", "were", "what", "when", "where",
        "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your", "yours",
        "yourself", "yourselves", "may", "might", "must", "shall", "one", "two", "three",
        "four", "five", "six", "seven", "eight", "nine", "ten", "mr", "mrs", "ms", "said",
        "says", "say", "told", "per", "via", "yet", "still", "even", "ever", "new", "year",
        "years", "last", "first",
    ]
)

_MASK = (1 << 63) - 1


def feature_hash(kind: str, value: str) -> int:
    """A stable non-negative 63-bit id for one feature (fits SQLite INTEGER)."""
    digest = hashlib.blake2b(f"{kind}:{value}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & _MASK


@dataclass(frozen=True, slots=True)
class Features:
    """The distinct features of one text: ``(kind, value)`` pairs and their hashes."""

    values: tuple[tuple[str, str], ...]
    hashes: tuple[int, ...]

    def by_kind(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for kind, _ in self.values:
            out[kind] = out.get(kind, 0) + 1
        return out

    def hash_kinds(self) -> dict[int, str]:
        return {h: k for (k, _), h in zip(self.values, self.hashes, strict=True)}


def immutable_mask(text: str, tokens: list[Token]) -> list[str | None]:
    """Per token: ``name``, ``number``, ``quote`` (a word inside double quotes) or None."""
    kinds: list[str | None] = []
    for tok, r in zip(tokens, token_roles(text, tokens), strict=True):
        if r.quote_mark:
            kinds.append(None)
        elif tok.is_number:
            kinds.append("number")
        elif not tok.is_word or tok.norm in STOP_WORDS:
            kinds.append(None)
        elif r.capitalised or r.all_caps:
            kinds.append("name")
        elif r.in_quote:
            kinds.append("quote")
        else:
            kinds.append(None)
    return kinds


def extract_features(text: str, *, words: bool = True) -> Features:
    """The distinct spin-invariant features of ``text`` (see the module docstring).

    ``words=False`` keeps only immutables and their sequences (a smaller
    index for corpora where content words are too common to help).
    """
    tokens = tokenize(text)
    kinds = immutable_mask(text, tokens)
    seen: dict[tuple[str, str], None] = {}
    prev_immutable: str | None = None
    prev_quote: str | None = None
    for tok, kind in zip(tokens, kinds, strict=True):
        if kind is None:
            if words and tok.is_word and len(tok.norm) >= 3 and tok.norm not in STOP_WORDS:
                seen[("word", tok.norm)] = None
            continue
        if kind == "quote":
            if prev_quote is not None:
                seen[("quote", f"{prev_quote} {tok.norm}")] = None
            prev_quote = tok.norm
            continue
        prev_quote = None
        seen[(kind, tok.norm)] = None
        if prev_immutable is not None and prev_immutable != tok.norm:
            seen[("sequence", f"{prev_immutable}|{tok.norm}")] = None
        prev_immutable = tok.norm
    values = tuple(seen)
    return Features(values, tuple(feature_hash(k, v) for k, v in values))
