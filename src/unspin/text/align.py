"""Token alignment of a spun text against its original.

Used by ``unspin learn`` (harvest substitutions from aligned pairs), by
tracing (passage alignment), and by the evaluation harness (ground truth for
real pairs; scoring a restoration against the original).

Method: both sides are tokenised (``unspin.text.tokenize``) and compared on
normalised tokens (lower case, quotes and dashes folded) with difflib's
``SequenceMatcher`` (``autojunk=False``: "the" must not be junk). Texts are
aligned paragraph by paragraph when both have the same number of blank-line
separated paragraphs (spun copies keep paragraphing); otherwise the whole
texts are aligned at once.

Only ``replace`` opcodes with at most :data:`MAX_SUB_TOKENS` tokens on each
side count as substitutions; longer replacements are reported as
``unaligned`` (rewritten passages, not spinning). Tokens present on one side
only are reported as ``inserted`` (in the spun text only) or ``deleted`` (in
the original only). Replacements where both sides are pure punctuation ("--"
for "—") are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from difflib import SequenceMatcher
from typing import Any

from unspin.text.tokenize import Token, tokenize

MAX_SUB_TOKENS = 6
_PARA_RE = re.compile(r"\n\s*\n")


@dataclass(frozen=True, slots=True)
class AlignedSub:
    """A substitution: recovered by alignment, or recorded by the simulator
    (``simulate.Sub`` is this type; ``profile_source`` then names its source)."""

    spun_start: int
    spun_end: int
    spun: str
    orig_start: int
    orig_end: int
    original: str
    profile_source: str = "aligned"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Gap:
    """Tokens present on one side only, or a replacement too long to be a swap."""

    start: int
    end: int
    text: str
    other_start: int
    other_end: int


@dataclass(frozen=True)
class Alignment:
    substitutions: tuple[AlignedSub, ...]
    inserted: tuple[Gap, ...]  # spun-only tokens (offsets in the spun text)
    deleted: tuple[Gap, ...]  # original-only tokens (offsets in the original)
    unaligned: tuple[Gap, ...]  # long replacements (offsets in the spun text)
    #: pairs (index into a-tokens, index into b-tokens) of equal tokens
    matched: tuple[tuple[int, int], ...] = field(default=(), repr=False)


def _paragraph_bounds(text: str) -> list[tuple[int, int]]:
    bounds = []
    start = 0
    for m in _PARA_RE.finditer(text):
        bounds.append((start, m.start()))
        start = m.end()
    bounds.append((start, len(text)))
    return [(a, b) for a, b in bounds if text[a:b].strip()]


def _is_punct(tokens: list[Token]) -> bool:
    return all(not t.norm[:1].isalnum() for t in tokens)


def _key(tok: Token) -> str:
    return tok.norm.replace("-", "") if tok.norm[:1].isalnum() else tok.norm


def align_tokens(a: list[Token], b: list[Token]) -> Sequence[tuple[str, int, int, int, int]]:
    """difflib opcodes over normalised tokens (no autojunk)."""
    matcher = SequenceMatcher(None, [_key(t) for t in a], [_key(t) for t in b], autojunk=False)
    return matcher.get_opcodes()


def align(spun: str, original: str, by_paragraph: bool = True) -> Alignment:
    """Align ``spun`` against ``original`` and classify every difference."""
    spun_tokens = tokenize(spun)
    orig_tokens = tokenize(original)
    chunks: list[tuple[list[int], list[int]]] = []
    pa, pb = _paragraph_bounds(spun), _paragraph_bounds(original)
    if by_paragraph and len(pa) == len(pb) and len(pa) > 1:
        ia = ib = 0
        for (_, ea), (_, eb) in zip(pa, pb, strict=True):
            ja = ia
            while ja < len(spun_tokens) and spun_tokens[ja].start < ea:
                ja += 1
            jb = ib
            while jb < len(orig_tokens) and orig_tokens[jb].start < eb:
                jb += 1
            chunks.append((list(range(ia, ja)), list(range(ib, jb))))
            ia, ib = ja, jb
        if ia < len(spun_tokens) or ib < len(orig_tokens):
            chunks.append(
                (list(range(ia, len(spun_tokens))), list(range(ib, len(orig_tokens))))
            )
    else:
        chunks.append((list(range(len(spun_tokens))), list(range(len(orig_tokens)))))

    subs: list[AlignedSub] = []
    inserted: list[Gap] = []
    deleted: list[Gap] = []
    unaligned: list[Gap] = []
    matched: list[tuple[int, int]] = []
    for ia_list, ib_list in chunks:
        a = [spun_tokens[i] for i in ia_list]
        b = [orig_tokens[i] for i in ib_list]
        a0 = ia_list[0] if ia_list else 0
        b0 = ib_list[0] if ib_list else 0
        for op, i1, i2, j1, j2 in align_tokens(a, b):
            if op == "equal":
                matched.extend((a0 + k, b0 + j1 + (k - i1)) for k in range(i1, i2))
                continue
            sa, sb = a[i1:i2], b[j1:j2]
            if op == "replace":
                if _is_punct(sa) and _is_punct(sb):
                    continue
                s0, s1 = sa[0].start, sa[-1].end
                o0, o1 = sb[0].start, sb[-1].end
                if len(sa) <= MAX_SUB_TOKENS and len(sb) <= MAX_SUB_TOKENS:
                    subs.append(AlignedSub(s0, s1, spun[s0:s1], o0, o1, original[o0:o1]))
                else:
                    unaligned.append(Gap(s0, s1, spun[s0:s1], o0, o1))
            elif op == "insert":  # tokens only in the original: the spinner dropped them
                o0, o1 = sb[0].start, sb[-1].end
                at = a[i1].start if i1 < len(a) else (a[-1].end if a else 0)
                deleted.append(Gap(o0, o1, original[o0:o1], at, at))
            elif op == "delete":  # tokens only in the spun text: the spinner added them
                s0, s1 = sa[0].start, sa[-1].end
                at = b[j1].start if j1 < len(b) else (b[-1].end if b else 0)
                inserted.append(Gap(s0, s1, spun[s0:s1], at, at))
    return Alignment(tuple(subs), tuple(inserted), tuple(deleted), tuple(unaligned),
                     tuple(matched))


def align_substitutions(spun: str, original: str, max_tokens: int = MAX_SUB_TOKENS
                        ) -> tuple[list[AlignedSub], int]:
    """Substitutions of at most ``max_tokens`` a side, and the original's word count."""
    a = align(spun, original)
    subs = [s for s in a.substitutions
            if len(tokenize(s.spun)) <= max_tokens and len(tokenize(s.original)) <= max_tokens]
    n_words = sum(1 for t in tokenize(original) if t.norm[:1].isalnum())
    return subs, n_words
