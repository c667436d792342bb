"""The one immutable configuration object.

Every door (library, CLI, service, scan, Spark) builds a :class:`Config` and
passes it to the same core. Each field documents its meaning, its default and
which way it trades precision against recall. Overrides are merged with
:meth:`Config.merged`, which validates names so a typo fails loudly instead of
being ignored.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

MODES = ("screen", "full")
SCORERS = ("ngram", "neural")
NEURAL_PRECISIONS = ("auto", "float32", "bfloat16")


@dataclass(frozen=True)
class Config:
    #: ``screen`` proposes candidates only where the n-gram model is surprised
    #: (fast, for crawls); ``full`` proposes them for every token and, when
    #: ``scorer='neural'``, rescores contested spans with the causal LM.
    mode: str = "full"

    #: ``ngram`` (fast, default) or ``neural`` (SmolLM2 rescoring of contested
    #: spans; needs the ``[neural]`` extra).
    scorer: str = "ngram"

    #: Arithmetic of the neural pass (``scorer='neural'``): ``auto`` runs it under
    #: bfloat16 where the CPU computes that natively (AVX512-BF16 or AMX; about
    #: 1.5x faster, log-probabilities within a few hundredths of a nat) and in
    #: float32 elsewhere; ``float32`` gives the same numbers on every machine.
    neural_precision: str = "auto"

    #: Path to an n-gram model (ARPA or kenlm binary) built with
    #: ``unspin lm build``. ``None`` uses the default model from
    #: ``unspin resources build`` (Norvig web counts from ``wordsegment``).
    ngram_path: str | None = None

    #: Candidate sources, by registry name (see ``unspin.candidates.SOURCES``).
    sources: tuple[str, ...] = ("moby", "wordnet", "mythes", "learned", "fingerprints", "lm",
                                 "collocation")

    #: Learned substitution tables (from ``unspin learn``) to use besides the
    #: one in the resource cache.
    learned_tables: tuple[str, ...] = ()

    #: Trade-off knobs for humans. ``favor_precision`` raises the bar a span's
    #: posterior must clear before it is flagged; ``favor_recall`` lowers it.
    favor_precision: bool = False
    favor_recall: bool = False

    #: Confidence P(substituted) at or above which a span is flagged. Higher =
    #: fewer, surer flags (precision); lower = more flags (recall). ``None``
    #: uses the tier's operating point, fitted with its models: the lowest
    #: threshold, not under 0.5, that keeps false edits on clean DEV stories
    #: within the product's limit of one per 1,000 words (docs/model.md).
    flag_threshold: float | None = None

    #: Calibrated document probability above which ``Analysis.spun`` is true.
    doc_threshold: float = 0.5

    #: Candidates are proposed only where the spun word (or the word after
    #: it) has a natural-log probability in context below this. Higher =
    #: more positions examined (recall, slower); lower = fewer (precision).
    surprise_threshold: float = -6.0

    #: Weight of the channel model against the language model. Larger values
    #: trust "this word is rarely spun" more (precision).
    channel_weight: float = 1.0

    #: Longest spun span considered, in tokens (both sides of a substitution).
    max_span_tokens: int = 4

    #: Candidates kept per span after cheap pruning; more = slower, more recall.
    max_candidates: int = 12

    #: Beam width of the lattice decoder.
    beam: int = 6

    #: Hard cap on input size in characters. Larger input raises InputError
    #: (the scan and service turn it into a typed skip / HTTP 413).
    max_chars: int = 2_000_000

    #: Directory of the resource cache (``None``: ``$UNSPIN_CACHE`` or
    #: ``~/.cache/unspin``).
    cache_dir: str | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {self.mode!r}")
        if self.scorer not in SCORERS:
            raise ValueError(f"scorer must be one of {SCORERS}, not {self.scorer!r}")
        if self.neural_precision not in NEURAL_PRECISIONS:
            raise ValueError(f"neural_precision must be one of {NEURAL_PRECISIONS}, "
                             f"not {self.neural_precision!r}")
        if self.favor_precision and self.favor_recall:
            raise ValueError("favor_precision and favor_recall are exclusive: choose one")
        if self.flag_threshold is not None and not 0.0 < self.flag_threshold < 1.0:
            raise ValueError("flag_threshold must be strictly between 0 and 1")
        if not 1 <= self.max_span_tokens <= 6:
            raise ValueError("max_span_tokens must be between 1 and 6")
        if self.max_chars < 1:
            raise ValueError("max_chars must be positive")
        from unspin.candidates.registry import validate_sources

        validate_sources(self.sources)

    def effective_flag_threshold(self, operating_point: float) -> float:
        """The threshold after the human trade-off knobs are applied, around the
        explicit ``flag_threshold`` or else the tier's fitted ``operating_point``."""
        base = self.flag_threshold if self.flag_threshold is not None else operating_point
        if self.favor_precision:
            return min(0.95, base + 0.25)
        if self.favor_recall:
            return max(0.05, base - 0.2)
        return base

    def merged(self, **overrides: Any) -> Config:
        """Return a copy with ``overrides`` applied; unknown names raise."""
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise ValueError(
                f"unknown option(s) {', '.join(unknown)}; valid options: {', '.join(sorted(names))}"
            )
        if "sources" in overrides and isinstance(overrides["sources"], list):
            overrides["sources"] = tuple(overrides["sources"])
        return dataclasses.replace(self, **overrides)


DEFAULT = Config()


def resolve(config: Config | None, overrides: dict[str, Any]) -> Config:
    """Merge keyword overrides into ``config`` (or the default)."""
    base = config if config is not None else DEFAULT
    return base.merged(**overrides) if overrides else base
