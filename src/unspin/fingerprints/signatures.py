"""Evidence from outside the prose: spinner boilerplate and leaked originals.

Three small, independent checks.

**Boilerplate signatures** (:func:`find_signatures`). Autoblogs that copy a
feed, spin it and repost it also spin their own template: the footer "Source
link" becomes "Supply hyperlink", "Read more" becomes "Learn extra", and the
aggregator disclaimer becomes "Denial of responsibility!". These strings are
almost never written by people, so one of them is strong evidence on its own.
The table :data:`SIGNATURES` lists each pattern with the original it spins,
the *family* it points to and a weight (how specific the pattern is). Patterns
that are plausible English in some context ("supply link") are anchored to a
line of their own. Families are descriptive labels of observed behaviour, not
product names:

* ``autoblog-footer``: spun footer/byline template of auto-posting blogs.
* ``aggregator-disclaimer``: spun "Disclaimer" of news aggregator templates.

The table holds boilerplate only. Lexical idioms of particular spinners
("dying toll") are deliberately not here: they are what the model and the
learned tables find, and a table copied from the development pairs would only
memorise them.

**Leaked originals** (:func:`leaked_words`). Tags and URL slugs are often
generated from the original headline *before* spinning, so they leak original
words: "#Putin #visits #North #Korea #time #years" or
``/coronavirus-indias-covid-19-death-toll-rises/``. :func:`leak_support`
says whether a proposed restoration is backed by such a leak.

**Family attribution** (:func:`attribute_family`) combines signature
evidence per family as independent cues (``1 - prod(1 - weight)``) and names a
family only when the combined score reaches :data:`ATTRIBUTION_THRESHOLD` and
clearly beats every other family. Without signature evidence it returns
``None``: absence of boilerplate says nothing about the spinner.

>>> [h.original for h in find_signatures("Trade rose 5 pct.\\n\\nSupply hyperlink")]
['Source link']
>>> sorted(leaked_words("see #Putin #NorthKorea and https://x.com/news/putin-visits_korea-2024.html"))
['korea', 'north', 'putin', 'visits']
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from unspin.types import Evidence

__all__ = [
    "ATTRIBUTION_THRESHOLD",
    "SIGNATURES",
    "Signature",
    "SignatureHit",
    "attribute_family",
    "find_signatures",
    "leak_support",
    "leaked_words",
    "signature_cue",
    "signature_evidence",
]

ATTRIBUTION_THRESHOLD = 0.6
ATTRIBUTION_MARGIN = 0.2


@dataclass(frozen=True, slots=True)
class Signature:
    """One row of the boilerplate table."""

    id: str
    pattern: str  # regular expression (compiled with re.MULTILINE)
    original: str
    family: str
    weight: float
    note: str


_LINE = r"(?:^|(?<=\n))[ \t]*{}[ \t]*[.:!»›>…]*[ \t]*$"

SIGNATURES: tuple[Signature, ...] = (
    Signature(
        "supply-hyperlink",
        r"\bSupply hyperlinks?\b",
        "Source link",
        "autoblog-footer",
        0.9,
        "spun 'Source link' footer; no ordinary English use",
    ),
    Signature(
        "supply-link-line",
        _LINE.format(r"Supply link"),
        "Source link",
        "autoblog-footer",
        0.8,
        "only as a line of its own: 'supply link' is ordinary in logistics",
    ),
    Signature(
        "learn-extra",
        r"\b[Ll]earn [Ee]xtra\b",
        "Read more",
        "autoblog-footer",
        0.8,
        "spun 'Read more' link text",
    ),
    Signature(
        "learn-additional-line",
        _LINE.format(r"[Ll]earn [Aa]dditional"),
        "Read more",
        "autoblog-footer",
        0.7,
        "spun 'Read more' as a line of its own",
    ),
    Signature(
        "learn-more-right-here",
        r"\b[Ll]earn [Mm]ore [Rr]ight [Hh]ere\b",
        "Read more here",
        "autoblog-footer",
        0.6,
        "spun 'Read more here'",
    ),
    Signature(
        "denial-of-responsibility",
        r"\bDenial of responsibility!",
        "Disclaimer!",
        "aggregator-disclaimer",
        0.9,
        "spun aggregator disclaimer heading",
    ),
    Signature(
        "disclaimer-refusal",
        r"\b(?:Refusal|Renunciation) of responsibility\b",
        "Disclaimer",
        "aggregator-disclaimer",
        0.7,
        "other spun 'Disclaimer' headings",
    ),
    Signature(
        "reporting-via",
        r"\bReporting (?:via|through) [A-Z][a-z]+",
        "Reporting by",
        "autoblog-footer",
        0.6,
        "spun wire byline 'Reporting by'",
    ),
    Signature(
        "modifying-by",
        r"\b(?:Modifying|Enhancing) (?:by|via|through) [A-Z][a-z]+",
        "Editing by",
        "autoblog-footer",
        0.7,
        "spun wire byline 'Editing by'",
    ),
)

_COMPILED = tuple((sig, re.compile(sig.pattern, re.MULTILINE)) for sig in SIGNATURES)
#: Any signature at all: where one pattern matches, this alternation matches too
#: (at that position or earlier), so one pass rules out most texts, which have none.
_ANY = re.compile("|".join(f"(?:{sig.pattern})" for sig in SIGNATURES), re.MULTILINE)
_BY_ID = {sig.id: sig for sig in SIGNATURES}


@dataclass(frozen=True, slots=True)
class SignatureHit:
    """A boilerplate signature found at ``text[start:end]``."""

    signature: str
    start: int
    end: int
    text: str
    original: str
    family: str
    weight: float

    def to_evidence(self) -> Evidence:
        return Evidence(
            kind="signature",
            detail=(
                f"{self.signature} [{self.family}] {self.text!r} at {self.start}-{self.end} "
                f"is spun {self.original!r}"
            ),
            value=self.weight,
        )


def find_signatures(text: str) -> list[SignatureHit]:
    """Every boilerplate signature in ``text``, in order of position."""
    hits: list[SignatureHit] = []
    if _ANY.search(text) is None:
        return hits
    for sig, rx in _COMPILED:
        for m in rx.finditer(text):
            start, end = m.span()
            # Line-anchored patterns may include the surrounding blanks; report the words.
            surface = text[start:end]
            lead = len(surface) - len(surface.lstrip())
            start, end = start + lead, start + len(surface.rstrip())
            hits.append(
                SignatureHit(
                    sig.id, start, end, text[start:end], sig.original, sig.family, sig.weight
                )
            )
    hits.sort(key=lambda h: (h.start, h.end, h.signature))
    return hits


def signature_evidence(text: str) -> list[Evidence]:
    """:func:`find_signatures` as ``Evidence(kind="signature")`` items.

    The detail reads ``<signature id> [<family>] '<text>' at <start>-<end> is
    spun '<original>'``; ``value`` is the signature's weight.
    """
    return [h.to_evidence() for h in find_signatures(text)]


_DETAIL_RE = re.compile(r"^(?P<id>[a-z0-9-]+) \[(?P<family>[a-z0-9-]+)\] ")


def _independent_cues(weights: Iterable[float]) -> float:
    """``1 - prod(1 - weight)``: the chance at least one cue is right."""
    miss = 1.0
    for w in weights:
        miss *= 1.0 - w
    return 1.0 - miss


def signature_cue(hits: Iterable[SignatureHit]) -> float:
    """P(spun) from boilerplate alone, combined as :func:`attribute_family` combines
    a family's signatures: each distinct signature once, at its table weight."""
    return _independent_cues({h.signature: h.weight for h in hits}.values())


def attribute_family(evidence: Iterable[Evidence]) -> tuple[str, float] | None:
    """A spinner family and a confidence in [0, 1], or ``None`` without support.

    Each distinct signature counts once (a footer repeated ten times is one
    cue). A family is named only if its combined score is at least
    :data:`ATTRIBUTION_THRESHOLD` and beats the runner-up by
    :data:`ATTRIBUTION_MARGIN`; the confidence is the combined score minus the
    runner-up's, so competing evidence lowers it.
    """
    weights: dict[str, dict[str, float]] = {}
    for ev in evidence:
        if ev.kind != "signature":
            continue
        m = _DETAIL_RE.match(ev.detail)
        if m is None or m.group("id") not in _BY_ID:
            continue
        fam = weights.setdefault(m.group("family"), {})
        fam[m.group("id")] = max(fam.get(m.group("id"), 0.0), min(max(ev.value, 0.0), 1.0))
    if not weights:
        return None
    scores = [(_independent_cues(per_sig.values()), family)
              for family, per_sig in weights.items()]
    scores.sort(reverse=True)
    best, family = scores[0]
    runner_up = scores[1][0] if len(scores) > 1 else 0.0
    if best < ATTRIBUTION_THRESHOLD or best - runner_up < ATTRIBUTION_MARGIN:
        return None
    return family, round(best - runner_up, 6)


# ---------------------------------------------------------------- leaked originals

_HASHTAG_RE = re.compile(r"(?<![\w&/])#([^\W_][\w]*)")
_URL_RE = re.compile(r"\b(?:https?://|www\.)[^\s<>\"')\]]+", re.IGNORECASE)
_CAMEL_RE = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_SLUG_SPLIT_RE = re.compile(r"[-_+]+")
_EXTENSION_RE = re.compile(r"\.(?:s?html?|php|aspx?|jsp|cms)$", re.IGNORECASE)


def _hashtag_words(tag: str) -> list[str]:
    parts = _CAMEL_RE.findall(tag) if not tag.islower() and not tag.isupper() else [tag]
    return [p.lower() for p in parts]


def leaked_words(text: str) -> set[str]:
    """Lower-cased words leaked by hashtags and URL slugs in ``text``.

    Hashtags are split on CamelCase (``#NorthKorea`` -> north, korea). A URL
    contributes the words of its path segments that are slugs (contain ``-``
    or ``_``); the host, query string, file extensions and pure numbers are
    ignored, so ``/2020/04/04/`` leaks nothing.
    """
    words: set[str] = set()
    for m in _HASHTAG_RE.finditer(text):
        words.update(w for w in _hashtag_words(m.group(1)) if not w.isdigit())
    for m in _URL_RE.finditer(text):
        url = m.group(0)
        rest = url.split("://", 1)[-1]
        path = rest.split("/", 1)[1] if "/" in rest else ""
        path = re.split(r"[?#]", path, maxsplit=1)[0]
        for segment in path.split("/"):
            segment = _EXTENSION_RE.sub("", segment)
            if not _SLUG_SPLIT_RE.search(segment):
                continue
            for w in _SLUG_SPLIT_RE.split(segment.lower()):
                if w and w.isalpha():
                    words.add(w)
    return words


_STOPWORDS = frozenset(
    {
        "a",
        "an",
        "the",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "by",
        "with",
        "and",
        "or",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "from",
        "that",
        "this",
        "it",
        "its",
        "into",
        "than",
        "then",
        "so",
    }
)


def _variants(word: str) -> set[str]:
    out = {word}
    if len(word) > 3 and word.endswith("s"):
        out.add(word[:-1])
    else:
        out.add(word + "s")
    return out


def leak_support(restored_phrase: str, leaked: set[str] | frozenset[str]) -> bool:
    """Whether a content word of ``restored_phrase`` appears among leaked words.

    Stop words do not count (a slug always has "the"); a final plural ``s`` is
    ignored on either side. One supported word suffices, because tags and slugs
    keep some words of a headline and drop others.

    >>> leak_support("death toll", {"covid", "death", "toll", "rises"})
    True
    >>> leak_support("dying toll", {"covid", "death", "rises"})
    False
    """
    content = [w for w in re.findall(r"[^\W_]+", restored_phrase.lower()) if w not in _STOPWORDS]
    return any(_variants(w) & leaked for w in content)
