"""Token alignment of a spun text against its original.

Used by ``unspin learn`` (harvest substitutions from traced pairs) and by the
evaluation harness (ground truth for real pairs). Alignment is difflib's
SequenceMatcher over normalised word tokens, paragraph by paragraph when both
sides have the same number of paragraphs (spun copies keep paragraphing),
otherwise over the whole text. Only ``replace`` blocks of at most
``max_tokens`` tokens a side count as substitutions; longer blocks are
rewrites, not spinning.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from unspin.text.tokenize import Token, tokenize

_PARA_RE = re.compile(r"\n\s*\n")


@dataclass(frozen=True, slots=True)
class Substitution:
    spun_start: int
    spun_end: int
    spun: str
    orig_start: int
    orig_end: int
    original: str


def _paragraph_bounds(text: str) -> list[tuple[int, int]]:
    bounds = []
    pos = 0
    for m in _PARA_RE.finditer(text):
        bounds.append((pos, m.start()))
        pos = m.end()
    bounds.append((pos, len(text)))
    return [(a, b) for a, b in bounds if text[a:b].strip()]


def _key(tok: Token) -> str:
    return tok.norm


def align_substitutions(
    spun: str, original: str, max_tokens: int = 6
) -> tuple[list[Substitution], int]:
    """Substitutions (spun span -> original span), and the count of original words.

    Punctuation-only differences are ignored.
    """
    sp = _paragraph_bounds(spun)
    op = _paragraph_bounds(original)
    pairs = list(zip(sp, op, strict=True)) if len(sp) == len(op) else [
        ((0, len(spun)), (0, len(original)))
    ]
    subs: list[Substitution] = []
    n_orig_words = 0
    for (sa, sb), (oa, ob) in pairs:
        st = [t for t in tokenize(spun[sa:sb]) if t.norm[:1].isalnum()]
        ot = [t for t in tokenize(original[oa:ob]) if t.norm[:1].isalnum()]
        n_orig_words += len(ot)
        sm = difflib.SequenceMatcher(a=[_key(t) for t in st], b=[_key(t) for t in ot],
                                     autojunk=False)
        for tag, i1, i2, j1, j2 in sm.get_opcodes():
            if tag != "replace" or i2 - i1 > max_tokens or j2 - j1 > max_tokens:
                continue
            s0, s1 = sa + st[i1].start, sa + st[i2 - 1].end
            o0, o1 = oa + ot[j1].start, oa + ot[j2 - 1].end
            subs.append(Substitution(s0, s1, spun[s0:s1], o0, o1, original[o0:o1]))
    return subs, n_orig_words
