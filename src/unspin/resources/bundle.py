"""The loaded resource bundle: one per process, shared by every document.

``get_bundle(config)`` memoises on the fields that change which files are
loaded (cache dir, n-gram path, learned tables, sources), so a scan over a
million documents opens each table once. Everything inside is read-only; the
inverse index and n-gram model are memory-mapped or loaded by C++ code.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from unspin.candidates.generate import CandidateGenerator
from unspin.candidates.learned import LearnedTable
from unspin.candidates.lmfill import FillIndex, load_fill_index
from unspin.config import Config
from unspin.decode.channel import ChannelModel, default_channel
from unspin.decode.rerank import Ranker, load_rankers
from unspin.decode.score import default_calibration, operating_point
from unspin.decode.spanmodel import (
    TIERS,
    LogisticModel,
    SpanModel,
    load_span_models,
    model_key,
)
from unspin.lm.ngram import NgramLM, load_ngram
from unspin.resources.build import COMMON_FILE, DEFAULT_NGRAM_FILE, INVERSE_FILE, ensure_built
from unspin.resources.inverse import InverseIndex

log = logging.getLogger("unspin")

LEARNED_FILE = "learned.tsv"


@dataclass(frozen=True)
class Bundle:
    lm: NgramLM
    generator: CandidateGenerator
    channel: ChannelModel
    #: Document model per tier ("full", "screen", "neural").
    calibrations: dict[str, LogisticModel]
    lm_name: str
    common: Any
    #: Span model per tier: screen decides locally and the neural tier adds
    #: features, so each has its own feature distribution and its own fit.
    span_models: dict[str, SpanModel]
    #: Flag threshold per tier, fitted with its models (``Config.flag_threshold``
    #: overrides it).
    operating_points: dict[str, float]
    #: Compiled fingerprint matcher (None when no list is imported).
    matcher: Any = None
    #: Gap-filling index of the n-gram model, also its successor table for
    #: collocations (None without the "lm" and "collocation" sources).
    fill: FillIndex | None = None
    #: A fitted choice among substitutions for the accurate tier (None, as shipped: the sum).
    ranker: Ranker | None = None
    #: The accurate tier's continuation model (decode/rescore.py, ``continuation_check``);
    #: None where none was fitted for this kind of LM.
    continuation: SpanModel | None = None

    def is_common(self, word: str) -> bool:
        return word in self.common


@lru_cache(maxsize=8)
def _inverse(path: str) -> InverseIndex:
    return InverseIndex(Path(path))


def _fingerprints(cache: Path) -> tuple[list[tuple[str, str, str]], Any]:
    """Channel pairs and a compiled matcher over every stored fingerprint set."""
    try:
        from unspin.fingerprints.matcher import FingerprintMatcher
        from unspin.fingerprints.store import channel_pairs, load_sets
    except ImportError:  # the [fingerprints] extra is not installed
        return [], None
    try:
        sets = load_sets(cache.parent / "fingerprints")
        if not sets:
            return [], None
        return list(channel_pairs(sets)), FingerprintMatcher(sets)
    except (ImportError, OSError, ValueError) as exc:
        log.warning("fingerprint lists not loaded: %s", exc)
        return [], None


@lru_cache(maxsize=8)
def _bundle(cache_override: str | None, ngram_path: str | None, learned: tuple[str, ...],
            sources: tuple[str, ...], max_candidates: int) -> Bundle:
    cache = ensure_built(cache_override)
    lm_path = ngram_path or str(cache / DEFAULT_NGRAM_FILE)
    lm = load_ngram(lm_path)
    table = LearnedTable(source="merged")
    default_learned = cache / LEARNED_FILE
    for path in ((str(default_learned),) if default_learned.is_file() else ()) + learned:
        table.merge(LearnedTable.load(path))
    channel = default_channel()
    fps, matcher = _fingerprints(cache) if "fingerprints" in sources else ([], None)
    gen = CandidateGenerator(_inverse(str(cache / INVERSE_FILE)), table, channel, sources,
                             fps, max_candidates)
    name = "default (Norvig web counts)" if ngram_path is None else Path(ngram_path).name
    import marisa_trie

    common = marisa_trie.Trie()
    common.mmap(str(cache / COMMON_FILE))
    kind = "default" if ngram_path is None else "kn3"
    fitted = load_span_models()
    # a tier without its own fit falls back to the full-mode model, which
    # simply ignores the features it was not fitted on
    span_models: dict[str, SpanModel] = {
        tier: fitted.get(model_key(kind, tier), fitted.get(kind, LogisticModel()))
        for tier in TIERS}
    calibrations = {tier: default_calibration(model_key(kind, tier), fallback=kind)
                    for tier in TIERS}
    points = {tier: operating_point(model_key(kind, tier), fallback=kind) for tier in TIERS}
    fill = (load_fill_index(lm_path, str(cache))
            if "lm" in sources or "collocation" in sources else None)
    ranker = load_rankers().get(model_key(kind, "neural"))
    return Bundle(lm, gen, channel, calibrations, name, common, span_models, points, matcher,
                  fill, ranker, fitted.get(model_key(kind, "continuation")))


def clear_cache() -> None:
    """Forget loaded bundles (after rebuilding resources or refitting models)."""
    _bundle.cache_clear()


def get_bundle(config: Config) -> Bundle:
    return _bundle(config.cache_dir, config.ngram_path, tuple(config.learned_tables),
                   tuple(config.sources), config.max_candidates)
