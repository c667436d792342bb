"""Lemmas, re-inflection and case transfer.

Real spinners keep inflection ("cases" -> "instances", "said" -> "talked
about"), so a spun word is looked up by its lemma and the original candidate
is re-inflected with the spun word's tag. lemminflect's tables are read once
per machine and stored as memory-mapped tries in the resource cache
(``<cache>/v1/morph/``), so a process needs neither lemminflect's import nor
its half-second table parse; every function is memoised per process: the
vocabulary of a corpus is small compared with its token count.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

_IRREGULAR_TAGS = ("NN", "NNS", "VB", "VBD", "VBG", "VBN", "VBZ", "VBP", "JJ", "JJR", "JJS")


@lru_cache(maxsize=1)
def _lemminflect() -> Any:
    """Import lemminflect without its optional spaCy hook.

    lemminflect tries ``import spacy`` at import time to register an
    extension we do not use; with the ``[spacy]`` extra installed that pulls
    in thinc and torch and costs seconds on every CLI start.
    """
    import sys

    if "lemminflect" in sys.modules or "spacy" in sys.modules:
        import lemminflect

        return lemminflect

    class _NoSpacy:
        @staticmethod
        def find_spec(name: str, *_: object) -> None:
            if name == "spacy":
                raise ImportError("spaCy hook of lemminflect skipped by unspin")
            return None

    blocker = _NoSpacy()
    sys.meta_path.insert(0, blocker)
    try:
        import lemminflect
    finally:
        sys.meta_path.remove(blocker)
    return lemminflect


def _shallow(table: dict[str, Any], overrides: dict[str, Any]) -> Callable[[str], dict[str, Any]]:
    """lemminflect's ``getAll*`` lookup over ``table``, without its per-call deep copy.

    lemminflect deep-copies a dictionary entry on every call so callers may
    mutate it; that copy is three quarters of the call (about 20 µs for an
    inflection table), paid once per new word while screening a corpus. Its
    values are tuples of strings and the case styling builds new tuples, so
    a shallow copy returns equal dictionaries (checked against the public
    functions over every key of lemminflect 0.2.3's tables, each in lower,
    upper, capitalised and title case).
    """
    def entry(word: str) -> dict[str, Any]:
        key = word.lower()
        out = dict(table.get(key, {}))
        out.update(overrides.get(key, {}))
        return _styled(out.items(), word)

    return entry


#: lemminflect's ``applyCapsStyle``, by the names its ``getCapsStyle`` gives.
_CASE: dict[str, Callable[[str], str]] = {
    "lower": str.lower, "all_upper": str.upper, "first_upper": str.capitalize}


def _caps_style(word: str) -> str:
    """lemminflect's ``getCapsStyle``."""
    if word.isupper():
        return "all_upper"
    if word and word[0].isupper():
        return "first_upper"
    return "lower"


def _styled(items: Iterable[tuple[str, Any]], word: str) -> dict[str, Any]:
    """lemminflect's ``applyCapsStyleToDict`` with ``word``'s caps style: every
    spelling (a tuple of them, or one string) in the style of ``word``."""
    case = _CASE[_caps_style(word)]
    return {tag: tuple(map(case, forms)) if isinstance(forms, list | tuple) else case(forms)
            for tag, forms in items}


def _fast_or_public(public: str, tables: Callable[[], tuple[Any, Any]], kind: str
                    ) -> Callable[[str], dict[str, Any]]:
    """A lookup equal to lemminflect's public function ``public``: over the stored
    table of ``kind`` (see ``_stored``) when lemminflect is 0.2.3, else over its
    tables in memory (``_shallow``, storing them for the next process), else
    the public function itself."""
    known = _lemminflect_version() == _KNOWN_VERSION
    path = _table_path(kind, _KNOWN_VERSION)
    if known and (trie := _open_table(path)) is not None:
        return _stored(trie)
    lem = _lemminflect()  # before ``tables``: it keeps lemminflect's spaCy hook out
    if known:
        try:
            got: tuple[Any, Any] | None = tables()
        except (ImportError, AttributeError):
            got = None
        if got is not None and all(isinstance(t, dict) for t in got):
            _save_table(path, *got)
            return _shallow(*got)
    result: Callable[[str], dict[str, Any]] = getattr(lem, public)
    return result


#: The lemminflect release whose tables ``_shallow`` and ``_stored`` read directly.
_KNOWN_VERSION = "0.2.3"
#: Bumped when the stored layout changes.
_TABLE_FORMAT = 1
_TAG_SEP = "\x1e"
_FORM_SEP = "\x1f"


def _lemminflect_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("lemminflect")
    except PackageNotFoundError:
        return None


def _table_path(kind: str, version: str) -> Path:
    from unspin.resources.cache import cache_dir

    return cache_dir() / "morph" / f"lemminflect-{version}-{kind}-f{_TABLE_FORMAT}.marisa"


def _open_table(path: Path) -> Any:
    """The stored table, memory-mapped; None when it is missing or unreadable."""
    import marisa_trie

    if not path.is_file():
        return None
    trie = marisa_trie.BytesTrie()
    try:
        trie.mmap(str(path))
    except Exception:  # marisa raises bare exceptions for a damaged file
        return None
    return trie


def _save_table(path: Path, table: dict[str, Any], overrides: dict[str, Any]) -> None:
    """Store lemminflect's table with its overrides applied, one trie value per word.

    lemminflect reads its gzipped tables line by line in Python on every
    process start: about half a second, most of a one-shot ``unspin check``
    in the n-gram tier. The stored trie opens in milliseconds and is shared
    between processes through the page cache. Nothing is stored unless every
    entry has the shape ``_stored`` decodes (tag -> tuple of spellings).
    """
    import marisa_trie

    items: list[tuple[str, bytes]] = []
    for key in dict.fromkeys([*table, *overrides]):
        merged = dict(table.get(key, {}))
        merged.update(overrides.get(key, {}))
        parts: list[str] = []
        for tag, forms in merged.items():
            if not isinstance(tag, str) or not isinstance(forms, list | tuple) or not all(
                    isinstance(f, str) and _TAG_SEP not in f and _FORM_SEP not in f
                    for f in forms):
                return
            parts.append(_FORM_SEP.join((tag, *forms)))
        if key and merged:
            items.append((key, _TAG_SEP.join(parts).encode()))
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        marisa_trie.BytesTrie(items).save(str(tmp))
        tmp.replace(path)  # whole or not at all, for processes starting meanwhile
    except OSError:
        # a read-only or full cache: the next process reads lemminflect's tables again
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def _stored(trie: Any) -> Callable[[str], dict[str, Any]]:
    """lemminflect's ``getAll*`` lookup over a stored table (see ``_save_table``),
    with its caps styling: all upper, capitalised, or lower."""
    def entry(word: str) -> dict[str, Any]:
        got = trie.get(word.lower())
        if not got:
            return {}
        parts = (part.split(_FORM_SEP) for part in got[0].decode().split(_TAG_SEP))
        return _styled(((tag, forms) for tag, *forms in parts), word)

    return entry


def _lemma_tables() -> tuple[Any, Any]:
    from lemminflect.core.Lemmatizer import Lemmatizer

    return Lemmatizer()._getLemmaDict(), Lemmatizer()._getOverridesDict()


def _inflection_tables() -> tuple[Any, Any]:
    from lemminflect.core.Inflections import Inflections

    return Inflections()._getInflDict(), Inflections()._getOverridesDict()


def prepare() -> None:
    """Open the stored lemma and inflection tables, writing them first if this
    cache has none: what ``unspin resources build`` does, so that the first
    analysis on a new machine does not."""
    _all_lemmas()
    _all_inflections()


@lru_cache(maxsize=1)
def _all_lemmas() -> Callable[[str], dict[str, Any]]:
    """``lemminflect.getAllLemmas`` without its per-call deep copy (see ``_shallow``)."""
    return _fast_or_public("getAllLemmas", _lemma_tables, "lemmas")


@lru_cache(maxsize=1)
def _all_inflections() -> Callable[[str], dict[str, Any]]:
    """``lemminflect.getAllInflections`` without its per-call deep copy (see ``_shallow``)."""
    return _fast_or_public("getAllInflections", _inflection_tables, "inflections")


@lru_cache(maxsize=200_000)
def lemmas(word: str) -> tuple[str, ...]:
    """Distinct lemmas of a lower-case word, the word itself first."""
    if not word.isalpha() or len(word) < 3:
        return (word,)
    out = [word]
    for group in _all_lemmas()(word).values():
        for lemma in group:
            if lemma not in out:
                out.append(lemma)
    return tuple(out)


@lru_cache(maxsize=200_000)
def tags(word: str) -> tuple[tuple[str, str], ...]:
    """(lemma, Penn tag) pairs that produce ``word`` by inflection."""
    if not word.isalpha() or len(word) < 3:
        return ()
    out: list[tuple[str, str]] = []
    for lemma in lemmas(word)[1:]:
        for tag, forms in _inflections(lemma).items():
            if word in forms:
                out.append((lemma, tag))
    return tuple(out)


@lru_cache(maxsize=200_000)
def word_tags(word: str) -> frozenset[str]:
    """Every Penn tag ``word`` can carry, base forms included ("number": NN, VB, VBP)."""
    if not word.isalpha() or len(word) < 3:
        return frozenset()
    out: set[str] = set()
    for lemma in lemmas(word):
        for tag, forms in _inflections(lemma).items():
            if word in forms:
                out.add(tag)
    return frozenset(out)


@lru_cache(maxsize=200_000)
def _inflections(lemma: str) -> dict[str, tuple[str, ...]]:
    result: dict[str, tuple[str, ...]] = _all_inflections()(lemma)
    return result


@lru_cache(maxsize=200_000)
def inflect(lemma: str, tag: str) -> str | None:
    """Inflect a word or phrase with ``tag``: nouns on the last word, verbs on the first.

    Returns None when the head word has no such inflection in the lexicon
    (rather than guessing with an out-of-vocabulary model: a wrong guess would
    become a confident wrong restoration).
    """
    parts = lemma.split(" ")
    idx = len(parts) - 1 if tag.startswith("NN") or tag.startswith("JJ") else 0
    head = parts[idx]
    if not head.isalpha():
        return lemma
    forms = _inflections(head).get(tag)
    if not forms:
        return None
    parts[idx] = forms[0]
    return " ".join(parts)


def transfer_case(spun: str, restored: str) -> str:
    """Give ``restored`` the capitalisation pattern of ``spun``.

    >>> transfer_case("Safety Council", "security council")
    'Security Council'
    >>> transfer_case("NEWS", "information")
    'INFORMATION'
    """
    if not spun or not restored:
        return restored
    if spun.isupper() and len(spun) > 1:
        return restored.upper()
    spun_words = spun.split()
    rest_words = restored.split()
    if len(spun_words) > 1 and all(w[:1].isupper() for w in spun_words):
        return " ".join(w[:1].upper() + w[1:] for w in rest_words)
    if spun[:1].isupper():
        return restored[:1].upper() + restored[1:]
    return restored
