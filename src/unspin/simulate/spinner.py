"""A deterministic spinner simulator that records exact ground truth.

Design
------
The simulator walks the tokens of a clean text (``unspin.text.tokenize``, so
offsets are exact) and copies everything between tokens verbatim. A token (or,
for profile c, a run of tokens matching the phrase table) is either copied or
replaced; every replacement is recorded as a :class:`Sub` with its offsets in
*both* the spun text and the original, so ``spun[s.spun_start:s.spun_end] ==
s.spun`` and ``original[s.orig_start:s.orig_end] == s.original`` always hold.

What real spinners do, and so what we do:

* look a word up by its lemma and re-inflect the synonym with the word's tag
  (``cases`` -> ``instances``), and copy the word's capitalisation;
* prefer common synonyms (wordfreq Zipf frequency) -- spinners are tuned to
  produce readable-looking words -- except profile b, which picks any sense;
* leave names, numbers and quotations alone (``protect_names``): a capitalised
  word that does not start a sentence, an all-capitals word, and anything
  between double quotes is never touched;
* never spin stop-words, except through profile c's phrase table, which is
  the point of that profile.

Randomness comes from one ``random.Random`` seeded with the profile and the
seed, so ``spin(text, p, seed)`` is a pure function of its arguments.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from unspin.resources.thesauri import load_forward
from unspin.simulate.phrases import PHRASE_TABLE
from unspin.simulate.profiles import Profile, get_profile
from unspin.text import morph
from unspin.text.align import AlignedSub
from unspin.text.immutables import token_roles
from unspin.text.morph import transfer_case
from unspin.text.tokenize import Token, tokenize

#: Words no word-level spinner touches (they carry grammar, not content).
STOP_WORDS = frozenset(
    [
        "a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any",
        "are", "as", "at", "be", "because", "been", "before", "being", "below", "between", "both",
        "but", "by", "can", "cannot", "could", "did", "do", "does", "doing", "down", "during",
        "each", "either", "few", "for", "from", "further", "had", "has", "have", "having", "he",
        "her", "here", "hers", "herself", "him", "himself", "his", "how", "i", "if", "in", "into",
        "is", "it", "its", "itself", "just", "me", "more", "most", "my", "myself", "no", "nor",
        "not", "now", "of", "off", "on", "once", "only", "or", "other", "our", "ours", "ourselves",
        "out", "over", "own", "same", "she", "should", "so", "some", "such", "than", "that", "the",
        "their", "theirs", "them", "themselves", "then", "there", "these", "they", "this", "those",
        "through", "to", "too", "under", "until", "up", "upon", "very", "was", "we", "were", "what",
        "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you",
        "your", "yours", "yourself", "yourselves", "may", "might", "must", "shall", "one", "two",
        "three", "four", "five", "six", "seven", "eight", "nine", "ten", "mr", "mrs", "ms", "said",
        "says", "say", "told", "also", "per", "via", "yet", "still", "even", "ever"
    ]
)

_PHRASE_MAX = max(len(k) for k in PHRASE_TABLE)
_SMALL_NUMBERS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"
)


#: One ground-truth substitution: ``original`` was spun into ``spun``. The
#: simulator's truth and the aligner's recovered substitutions are one type,
#: so metrics compare them field by field.
Sub = AlignedSub


@dataclass(frozen=True, slots=True)
class SpunDoc:
    """A spun text, the original it came from, and the exact substitutions."""

    text: str
    original: str
    substitutions: tuple[Sub, ...]
    profile: str
    seed: int
    rate: float

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "original": self.original,
            "profile": self.profile,
            "seed": self.seed,
            "rate": round(self.rate, 6),
            "substitutions": [s.to_json() for s in self.substitutions],
        }


@lru_cache(maxsize=1)
def _zipf() -> Any:
    from wordfreq import zipf_frequency

    return zipf_frequency


def _plausible(term: str) -> bool:
    parts = term.split(" ")
    return (
        1 <= len(parts) <= 3
        and all(p.isalpha() and p.isascii() for p in parts)
        and not (len(parts) == 1 and term in STOP_WORDS)
    )


@lru_cache(maxsize=200_000)
def _upos(word: str) -> tuple[str, ...]:
    """Universal parts of speech lemminflect knows for ``word`` (first = most usual)."""
    import lemminflect

    return tuple(lemminflect.getAllLemmas(word).keys())


def _reading_upos(norm: str, tag: str | None) -> str | None:
    if tag is None:
        known = _upos(norm)
        return known[0] if known else None
    return {"N": "NOUN", "V": "VERB", "J": "ADJ", "R": "ADV"}.get(tag[:1])


def _fits_pos(syn: str, upos: str | None) -> bool:
    """Whether a synonym can fill the slot (the head word has that part of speech)."""
    if upos is None:
        return True
    parts = syn.split(" ")
    head = parts[0] if upos == "VERB" else parts[-1]
    import lemminflect

    readings = lemminflect.getAllLemmas(head)
    if not readings:
        return len(parts) > 1
    # the head must be a base form of that part of speech: re-inflecting an
    # already inflected synonym gives "profitses"
    return upos in readings and head in readings[upos]


@lru_cache(maxsize=100_000)
def _analyses(norm: str) -> tuple[tuple[str, str | None], ...]:
    """(lemma, tag) readings of a word; a base form reads as itself, untagged."""
    found = morph.tags(norm)
    return found if found else ((norm, None),)


@lru_cache(maxsize=200_000)
def _synonyms(
    profile_name: str, norm: str, lemma: str, tag: str | None
) -> tuple[tuple[str, str], ...]:
    """Inflected synonyms of ``lemma`` as ``(surface, thesaurus)``, most common first.

    Synonyms must share the reading's part of speech (a spinner that swaps
    nouns for verbs is modelled separately, by choosing a wrong *reading*)
    and be neither stop-words nor so generic they read as noise (Zipf > 6.2:
    "get", "do").
    """
    profile = get_profile(profile_name)
    zipf = _zipf()
    upos = _reading_upos(norm, tag)
    seen: dict[str, tuple[float, str]] = {}
    for name in profile.thesauri:
        for syn in load_forward(name).get(lemma, ()):
            if syn in seen or syn == lemma or not _plausible(syn):
                continue
            if " " in syn and not profile.multiword:
                continue
            if lemma in syn.split(" "):
                continue  # "case" -> "case study" is an expansion, not a swap
            if not _fits_pos(syn, upos):
                continue
            freq = zipf(syn, "en")
            if not profile.min_zipf <= freq <= 6.2:
                continue
            seen[syn] = (freq, name)
    ranked = sorted(seen.items(), key=lambda kv: (-kv[1][0], kv[0]))
    if profile.top_k:
        ranked = ranked[: profile.top_k]
    out: list[tuple[str, str]] = []
    for syn, (_, name) in ranked:
        surface = morph.inflect(syn, tag) if tag else syn
        if surface and surface != lemma:
            out.append((surface, name))
    return tuple(out)


def _protected_mask(text: str, tokens: list[Token]) -> list[bool]:
    """True for tokens a name/number/quote-protecting spinner must keep."""
    return [r.quote_mark or r.in_quote or r.capitalised or r.all_caps or tok.is_number
            for tok, r in zip(tokens, token_roles(text, tokens), strict=True)]


def _spell_number(tok: Token, rng: random.Random) -> str | None:
    head, sep, rest = tok.text.partition(",")
    if not head.isdigit():
        return None
    if not sep and tok.text.isdigit() and int(tok.text) <= 10:
        return _SMALL_NUMBERS[int(tok.text)] if rng.random() < 0.7 else None
    if sep and len(head) == 1 and rest and rng.random() < 0.3:
        return _SMALL_NUMBERS[int(head)] + sep + rest  # "2,902" -> "two,902", seen in the wild
    return None


def _phrase_at(
    text: str, tokens: list[Token], i: int, protected: list[bool]
) -> tuple[int, tuple[str, ...]] | None:
    """Longest phrase-table key starting at token ``i``: (end index, variants)."""
    for length in range(min(_PHRASE_MAX, len(tokens) - i), 0, -1):
        window = tokens[i : i + length]
        if any(protected[i + k] or not window[k].is_word for k in range(length)):
            continue
        if any(text[a.end : b.start] != " " for a, b in itertools.pairwise(window)):
            continue
        variants = PHRASE_TABLE.get(tuple(t.norm for t in window))
        if variants:
            return i + length, variants
    return None


def _word_swap(
    tok: Token, profile: Profile, rng: random.Random
) -> tuple[str, str] | None:
    """A synonym for one eligible token, inflected and cased like it."""
    readings = _analyses(tok.norm)
    reading = readings[0]
    if profile.wrong_pos and len(readings) > 1 and rng.random() < profile.wrong_pos:
        reading = readings[rng.randrange(1, len(readings))]
    options = _synonyms(profile.name, tok.norm, reading[0], reading[1])
    if not options:
        return None
    surface, source = options[rng.randrange(len(options))]
    if surface == tok.norm:
        return None
    return transfer_case(tok.text, surface), source


def _eligible(tok: Token) -> bool:
    return tok.text.isalpha() and len(tok.text) >= 3 and tok.norm not in STOP_WORDS


def spin(
    text: str,
    profile: str,
    seed: int,
    rate: float | None = None,
    protect_names: bool = True,
    spell_numbers: bool = False,
) -> SpunDoc:
    """Spin ``text`` with a named profile; the result records every substitution.

    ``rate`` overrides the profile's word-swap rate (fraction of eligible
    content words swapped, 0..1). Deterministic for a given seed:

    >>> a = spin("The company said prices rose sharply.", "a", seed=3)
    >>> a == spin("The company said prices rose sharply.", "a", seed=3)
    True
    >>> all(a.text[s.spun_start:s.spun_end] == s.spun for s in a.substitutions)
    True
    """
    if not isinstance(text, str):
        raise TypeError(f"spin() needs str, not {type(text).__name__}; decode bytes first")
    prof = get_profile(profile)
    if rate is not None and not 0.0 <= rate <= 1.0:
        raise ValueError(f"rate must be between 0 and 1, not {rate}")
    rng = random.Random(f"unspin.simulate:{prof.name}:{seed}")
    doc_rate = rate if rate is not None else rng.uniform(*prof.rate)
    tokens = tokenize(text)
    protected = (
        _protected_mask(text, tokens) if protect_names else [t.is_number for t in tokens]
    )
    pieces: list[str] = []
    subs: list[Sub] = []
    out_len = 0
    last = 0
    i = 0
    n = len(tokens)
    while i < n:
        tok = tokens[i]
        end = i + 1
        new: str | None = None
        source = ""
        if prof.phrase_rate:
            match = _phrase_at(text, tokens, i, protected)
            if match is not None and rng.random() < prof.phrase_rate:
                end, variants = match
                old = text[tok.start : tokens[end - 1].end]
                choice = variants[rng.randrange(len(variants))]
                if choice != old.lower():
                    new, source = transfer_case(old, choice), "phrase"
                else:
                    end = i + 1
        if new is None and spell_numbers and tok.is_number:
            spelled = _spell_number(tok, rng)
            if spelled is not None:
                new, source = spelled, "numbers"
        if new is None and not protected[i] and _eligible(tok) and rng.random() < doc_rate:
            swap = _word_swap(tok, prof, rng)
            if swap is not None:
                new, source = swap
        if new is None:
            i += 1
            continue
        orig_start, orig_end = tok.start, tokens[end - 1].end
        gap = text[last:orig_start]
        pieces.append(gap)
        out_len += len(gap)
        pieces.append(new)
        subs.append(
            Sub(out_len, out_len + len(new), new, orig_start, orig_end,
                text[orig_start:orig_end], source)
        )
        out_len += len(new)
        last = orig_end
        i = end
    pieces.append(text[last:])
    return SpunDoc("".join(pieces), text, tuple(subs), prof.name, seed, doc_rate)
