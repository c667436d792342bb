"""The accurate tier's model code: a Llama decoder in plain torch, and its tokenizer.

SmolLM2 is a Llama. Running it through ``transformers`` cost every process
about 3 s of imports before the first token (the library pulls in
``torch.distributed``, ``torch._dynamo``, sympy and scipy on the way to its
Llama class), more than loading the weights. The forward pass itself is a
few dozen tensor operations, so it is written out here, and the tokenizer
is read with the ``tokenizers`` library that ``transformers`` itself wraps.
``transformers`` is still what reads the GGUF once, when the model is first
converted (``unspin.lm.neural``).

The numbers are ``transformers``' own: every operation below is the one its
Llama code (5.x, SDPA attention) runs for these inputs, in the same order and
dtypes, including its choices of attention kernel arguments (a boolean mask
only where padding or a cache needs one, grouped-query attention inside
SDPA otherwise). So the logits are bit-identical, in float32 and under
bfloat16 autocast; ``tests/test_neural_lm.py`` checks that against
``transformers`` for plain passes, padded batches and passes over a cache.

Only what the converted checkpoint uses is supported (default rotary
embedding, SiLU, no biases); any other configuration is refused with a
:class:`~unspin.errors.ResourceError` rather than computed differently.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from unspin.errors import ResourceError

#: One layer's cached keys and values, each (batch, key/value heads, positions, head dim).
LayerCache = tuple[torch.Tensor, torch.Tensor]
#: A loaded weight by its name below a module (``"q_proj.weight"``).
Weights = Callable[[str], torch.Tensor]


def _below(weights: Weights, prefix: str) -> Weights:
    return lambda name: weights(f"{prefix}.{name}")


def _linear(weight: torch.Tensor) -> nn.Linear:
    """An ``nn.Linear`` over a loaded weight. Built at 1 x 1 and handed the weight:
    built at full size it would allocate and randomly initialise a matrix only
    to drop it, and built on the meta device its initialisation imports
    ``torch._dynamo`` (1.5 s)."""
    layer = nn.Linear(1, 1, bias=False)
    layer.weight = (weight if isinstance(weight, nn.Parameter)  # shared, as a tied head is
                    else nn.Parameter(weight, requires_grad=False))
    layer.out_features, layer.in_features = weight.shape
    return layer


@dataclass(frozen=True)
class LlamaConfig:
    vocab_size: int
    hidden_size: int
    intermediate_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    head_dim: int
    rms_norm_eps: float
    rope_theta: float
    tie_word_embeddings: bool
    pad_token_id: int | None

    @classmethod
    def from_file(cls, path: Path) -> LlamaConfig:
        try:
            raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ResourceError(f"cannot read the model config {path}: {exc}") from None
        rope = raw.get("rope_parameters") or {
            "rope_type": "default", "rope_theta": raw.get("rope_theta", 10000.0)}
        unsupported = [
            what for what, ok in (
                ("model_type", raw.get("model_type") == "llama"),
                ("rope_type", rope.get("rope_type", "default") == "default"),
                ("hidden_act", raw.get("hidden_act", "silu") == "silu"),
                ("attention_bias", not raw.get("attention_bias", False)),
                ("mlp_bias", not raw.get("mlp_bias", False)),
                ("pretraining_tp", raw.get("pretraining_tp", 1) == 1),
            ) if not ok]
        if unsupported:
            raise ResourceError(
                f"{path}: unspin's Llama code does not support this model "
                f"({', '.join(f'{k}={raw.get(k)!r}' for k in unsupported)})")
        try:
            heads = int(raw["num_attention_heads"])
            hidden = int(raw["hidden_size"])
            return cls(
                vocab_size=int(raw["vocab_size"]),
                hidden_size=hidden,
                intermediate_size=int(raw["intermediate_size"]),
                num_hidden_layers=int(raw["num_hidden_layers"]),
                num_attention_heads=heads,
                num_key_value_heads=int(raw.get("num_key_value_heads") or heads),
                head_dim=int(raw.get("head_dim") or hidden // heads),
                rms_norm_eps=float(raw.get("rms_norm_eps", 1e-6)),
                rope_theta=float(rope["rope_theta"]),
                tie_word_embeddings=bool(raw.get("tie_word_embeddings", False)),
                pad_token_id=raw.get("pad_token_id"),
            )
        except (KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
            raise ResourceError(f"{path}: incomplete model config ({exc!r}); convert the "
                                "model again") from None


class RMSNorm(nn.Module):
    def __init__(self, weight: torch.Tensor, eps: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(weight, requires_grad=False)
        self.eps = eps

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        dtype = hidden.dtype
        hidden = hidden.to(torch.float32)
        variance = hidden.pow(2).mean(-1, keepdim=True)
        hidden = hidden * torch.rsqrt(variance + self.eps)
        out: torch.Tensor = self.weight * hidden.to(dtype)
        return out


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def _repeat_kv(states: torch.Tensor, n_rep: int) -> torch.Tensor:
    batch, heads, length, dim = states.shape
    if n_rep == 1:
        return states
    states = states[:, :, None, :, :].expand(batch, heads, n_rep, length, dim)
    return states.reshape(batch, heads * n_rep, length, dim)


class Attention(nn.Module):
    def __init__(self, config: LlamaConfig, weights: Weights) -> None:
        super().__init__()
        self.head_dim = config.head_dim
        self.groups = config.num_attention_heads // config.num_key_value_heads
        self.scaling = config.head_dim ** -0.5
        self.q_proj = _linear(weights("q_proj.weight"))
        self.k_proj = _linear(weights("k_proj.weight"))
        self.v_proj = _linear(weights("v_proj.weight"))
        self.o_proj = _linear(weights("o_proj.weight"))

    def forward(self, hidden: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor,
                mask: torch.Tensor | None, past: LayerCache) -> tuple[torch.Tensor, LayerCache]:
        batch, length = hidden.shape[:-1]
        shape = (batch, length, -1, self.head_dim)
        query = self.q_proj(hidden).view(shape).transpose(1, 2)
        key = self.k_proj(hidden).view(shape).transpose(1, 2)
        value = self.v_proj(hidden).view(shape).transpose(1, 2)
        cos, sin = cos.unsqueeze(1), sin.unsqueeze(1)
        query = (query * cos) + (_rotate_half(query) * sin)
        key = (key * cos) + (_rotate_half(key) * sin)
        # the cache grows by concatenation, as transformers' DynamicCache does
        key = torch.cat([past[0], key], dim=-2)
        value = torch.cat([past[1], value], dim=-2)
        cache = (key, value)
        kwargs: dict[str, Any] = {}
        if self.groups > 1:
            if mask is None and key.shape[-1] == value.shape[-1] <= 256:
                kwargs["enable_gqa"] = True
            elif length == 1:
                # one query token: the heads sharing a key/value head become its rows
                query = query.reshape(batch, query.shape[1] // self.groups, self.groups, -1)
            else:
                key = _repeat_kv(key, self.groups)
                value = _repeat_kv(value, self.groups)
        causal = length > 1 and mask is None
        if causal and key.shape[2] > length:
            key, value = key[:, :, :length, :], value[:, :, :length, :]
        out = F.scaled_dot_product_attention(
            query, key, value, attn_mask=mask, dropout_p=0.0, scale=self.scaling,
            is_causal=causal, **kwargs)
        out = out.reshape(out.shape[0], -1, length, value.shape[-1]).transpose(1, 2).contiguous()
        out = out.reshape(batch, length, -1).contiguous()
        result: torch.Tensor = self.o_proj(out)
        return result, cache


class MLP(nn.Module):
    def __init__(self, weights: Weights) -> None:
        super().__init__()
        self.gate_proj = _linear(weights("gate_proj.weight"))
        self.up_proj = _linear(weights("up_proj.weight"))
        self.down_proj = _linear(weights("down_proj.weight"))

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.down_proj(F.silu(self.gate_proj(hidden)) * self.up_proj(hidden))
        return out


class DecoderLayer(nn.Module):
    def __init__(self, config: LlamaConfig, weights: Weights) -> None:
        super().__init__()
        eps = config.rms_norm_eps
        self.self_attn = Attention(config, _below(weights, "self_attn"))
        self.mlp = MLP(_below(weights, "mlp"))
        self.input_layernorm = RMSNorm(weights("input_layernorm.weight"), eps)
        self.post_attention_layernorm = RMSNorm(weights("post_attention_layernorm.weight"), eps)

    def forward(self, hidden: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor,
                mask: torch.Tensor | None, past: LayerCache) -> tuple[torch.Tensor, LayerCache]:
        attended, cache = self.self_attn(self.input_layernorm(hidden), cos, sin, mask, past)
        hidden = hidden + attended
        hidden = hidden + self.mlp(self.post_attention_layernorm(hidden))
        return hidden, cache


class Decoder(nn.Module):
    """The Llama decoder: token ids to last hidden states, and its key/value cache."""

    def __init__(self, config: LlamaConfig, weights: Weights) -> None:
        super().__init__()
        table = weights("embed_tokens.weight")
        # handed its weight, the layer allocates and initialises nothing
        rows, cols = table.shape
        self.embed_tokens = nn.Embedding(rows, cols, padding_idx=config.pad_token_id,
                                         _weight=table, _freeze=True)
        self.layers = nn.ModuleList(DecoderLayer(config, _below(weights, f"layers.{n}"))
                                    for n in range(config.num_hidden_layers))
        self.norm = RMSNorm(weights("norm.weight"), config.rms_norm_eps)
        dim = config.head_dim
        inv_freq = 1.0 / (config.rope_theta ** (torch.arange(0, dim, 2, dtype=torch.float) / dim))
        self.inv_freq: torch.Tensor
        self.register_buffer("inv_freq", inv_freq, persistent=False)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                position_ids: torch.Tensor | None = None,
                cache: Sequence[LayerCache] | None = None,
                ) -> tuple[torch.Tensor, list[LayerCache]]:
        """Hidden states after the final norm, and the cache extended by these tokens.

        ``attention_mask`` (batch, cached + new positions) marks real tokens with
        1; ``position_ids`` default to the positions after the cache.
        """
        hidden = self.embed_tokens(input_ids)
        batch, length = input_ids.shape
        if cache is None:
            empty = torch.tensor([], dtype=hidden.dtype)
            cache = [(empty, empty)] * len(self.layers)
        past_len = cache[0][0].shape[-2] if cache[0][0].dim() == 4 else 0
        if position_ids is None:
            position_ids = (torch.arange(length) + past_len).unsqueeze(0)
        mask = _causal_mask(attention_mask, batch, length, past_len)
        freqs = position_ids[..., None].float() * self.inv_freq.float()
        emb = torch.cat((freqs, freqs), dim=-1)
        # "* 1.0": transformers' attention scaling, 1.0 for the default rotary
        # embedding (kept so the operations are literally the same)
        cos = (emb.cos() * 1.0).to(hidden.dtype)
        sin = (emb.sin() * 1.0).to(hidden.dtype)
        out: list[LayerCache] = []
        for layer, past in zip(self.layers, cache, strict=True):
            hidden, layer_cache = layer(hidden, cos, sin, mask, past)
            out.append(layer_cache)
        return self.norm(hidden), out


def _causal_mask(attention_mask: torch.Tensor | None, batch: int, length: int,
                 past_len: int) -> torch.Tensor | None:
    """The boolean (batch, 1, query, key) mask, or None where SDPA's own causal
    flag does the same (transformers' rule: no padding, and no cache or one
    query token)."""
    kv_len = past_len + length
    pad = None
    if attention_mask is not None:
        pad = attention_mask.to(dtype=torch.bool)
        if (missing := kv_len - pad.shape[-1]) > 0:
            pad = F.pad(pad, (0, missing))
        if pad.shape[-1] > kv_len:
            pad = pad[:, :kv_len]
    if (length == 1 or kv_len == length) and (pad is None or bool(pad.all())):
        return None
    if past_len == 0 and (pad is None or (bool(pad[:, :length].all())
                                          and bool((~pad[:, length:]).all()))):
        return None
    q_idx = torch.arange(length) + past_len
    kv_idx = torch.arange(kv_len)
    mask = kv_idx[None, None, None, :] <= q_idx[None, None, :, None]
    if pad is not None:
        mask = mask & pad[:, None, None, :]
    return mask.expand(batch, -1, length, kv_len)


class LlamaForCausalLM(nn.Module):
    def __init__(self, config: LlamaConfig, weights: Weights) -> None:
        super().__init__()
        self.config = config
        self.model = Decoder(config, _below(weights, "model"))
        self.lm_head = _linear(self.model.embed_tokens.weight if config.tie_word_embeddings
                               else weights("lm_head.weight"))

    def get_decoder(self) -> Decoder:
        return self.model

    def get_input_embeddings(self) -> nn.Embedding:
        return self.model.embed_tokens

    def get_output_embeddings(self) -> nn.Linear:
        return self.lm_head

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                ) -> torch.Tensor:
        """Logits for every position (in the layers' dtype)."""
        hidden, _ = self.model(input_ids, attention_mask)
        logits: torch.Tensor = self.lm_head(hidden)
        return logits


def load_model(directory: Path) -> LlamaForCausalLM:
    """The float32 model from a converted directory (``config.json``, ``model.safetensors``),
    its weights memory-mapped from the file."""
    from safetensors import safe_open

    config = LlamaConfig.from_file(directory / "config.json")
    path = directory / "model.safetensors"
    state: dict[str, torch.Tensor] = {}
    try:
        with safe_open(str(path), framework="pt") as fh:
            for name in fh.keys():  # noqa: SIM118 - safe_open is not a mapping
                # views of the memory-mapped file: the bfloat16 tier converts its
                # linear layers from them without a float32 copy (unspin.lm.neural)
                state[name] = fh.get_tensor(name).to(torch.float32)
    except (OSError, RuntimeError, ValueError) as exc:
        raise ResourceError(f"cannot read the model weights {path}: {exc}") from None
    used: set[str] = set()

    def weights(name: str) -> torch.Tensor:
        used.add(name)
        return state[name]

    try:
        model = LlamaForCausalLM(config, weights)
    except KeyError as exc:
        raise ResourceError(f"{path} has no weight {exc} that its config needs: "
                            "convert the model again") from None
    extra = sorted(set(state) - used - {"lm_head.weight"})
    if extra:
        raise ResourceError(f"{path} has weights its config does not use ({extra[:3]}): "
                            "convert the model again")
    model.eval()
    return model


class Tokenizer:
    """The model's ``tokenizer.json`` through the ``tokenizers`` library: exactly
    the ids and offsets ``transformers``' fast tokenizer returns for it."""

    def __init__(self, directory: Path) -> None:
        from tokenizers import Tokenizer as Backend

        path = directory / "tokenizer.json"
        try:
            self.backend: Any = Backend.from_file(str(path))
            settings = json.loads((directory / "tokenizer_config.json").read_text("utf-8"))
        except Exception as exc:  # tokenizers raises a bare Exception for a bad file
            raise ResourceError(f"cannot read the tokenizer in {directory}: {exc}") from None
        eos = settings.get("eos_token")
        if isinstance(eos, dict):
            eos = eos.get("content")
        self.eos_token_id: int | None = self.backend.token_to_id(eos) if eos else None

    def __len__(self) -> int:
        return int(self.backend.get_vocab_size(with_added_tokens=True))

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text``, no special tokens added."""
        ids: list[int] = self.backend.encode(text, add_special_tokens=False).ids
        return ids

    def encode_with_offsets(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        """Token ids and each token's (start, end) character offsets in ``text``."""
        enc = self.backend.encode(text, add_special_tokens=False)
        return list(enc.ids), [tuple(o) for o in enc.offsets]

    def decode(self, ids: Sequence[int]) -> str:
        text: str = self.backend.decode(list(ids), skip_special_tokens=False)
        return text

    def decode_each(self, ids: Sequence[int]) -> list[str]:
        """Each id decoded alone, in one call."""
        pieces: list[str] = self.backend.decode_batch([[i] for i in ids],
                                                      skip_special_tokens=False)
        return pieces
