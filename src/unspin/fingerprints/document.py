"""The word stream that fingerprint queries are evaluated against.

A document is tokenised once with :func:`unspin.text.tokenize.tokenize` and
turned into *pieces*: lower-cased, quote-folded tokens (``Token.norm``) with
character offsets into the exact input. Two foldings make queries robust to
how papers are typeset, and the same code runs on query phrases, so a query
and a document always agree on what a "word" is:

* **Hyphens are separators.** ``machine-learning`` becomes the two pieces
  ``machine`` and ``learning``, so the phrase ``"machine learning"`` matches
  ``machine-learning`` and the other way round. Stand-alone hyphen tokens
  (``-``, U+2010, U+2011) are dropped. En and em dashes are kept as
  punctuation pieces.
* **PDF line-break hyphenation is undone.** ``learn-\\ning`` (a word, a hyphen
  touching it, white space containing a line break, then a word starting with
  a lower-case letter) becomes one piece ``learning``. A soft hyphen (U+00AD)
  between two word parts joins them in the same way. Because a line break can
  also fall on the hyphen of a real compound (``machine-\\nlearning``), a joined
  piece remembers its two halves, and phrase matching accepts either reading.

Every piece also carries a *word position* (punctuation pieces do not advance
it), which proximity queries use to count intervening words.

The *gate string* of a text (:func:`gate_string`) is the concatenation of all
piece norms, i.e. the lower-cased text without white space or hyphens. The
matcher runs its Aho-Corasick automaton over this string; any phrase that
matches in the piece stream is a substring of it, so the gate never loses a
match. For ASCII text it is computed with two C-speed string operations and no
tokenisation at all, which is what makes clean documents cheap.

>>> [p.norm for p in DocumentIndex("Machine-\\nlearning and deep-learn-\\ning").pieces]
['machinelearning', 'and', 'deep', 'learning']
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from unspin.text.tokenize import tokenize

HYPHENS = frozenset("-\u2010\u2011")
SOFT_HYPHEN = "\u00ad"
_JOINERS = HYPHENS | {SOFT_HYPHEN}
# Every ASCII character str.isspace() accepts (the tokenizer's \s), plus "-".
_ASCII_GATE_DELETE = str.maketrans("", "", " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f-")
_HYPHEN_SPLIT_RE = re.compile(r"[^\-\u2010\u2011]+")


@dataclass(frozen=True, slots=True)
class Piece:
    """One word or punctuation mark of a document after folding.

    ``parts`` is set only for a word joined across a line-break hyphen: the
    norms of the two halves, so ``machine-\\nlearning`` can still match the
    phrase ``"machine learning"``.
    """

    norm: str
    start: int
    end: int
    wpos: int
    parts: tuple[str, str] | None = None

    @property
    def is_word(self) -> bool:
        return self.norm[:1].isalnum() or self.norm[:1] == "*"


def pieces_of(text: str) -> list[Piece]:
    """Fold ``text`` into pieces (see the module docstring for the rules)."""
    tokens = tokenize(text)
    raw: list[tuple[str, int, int, bool]] = []  # (norm, start, end, continues previous)
    join_next = False  # the next raw piece continues the previous one
    n = len(tokens)
    for i, tok in enumerate(tokens):
        norm = tok.norm
        if tok.text in _JOINERS:  # the \S branch of the tokenizer: one character
            if 0 < i < n - 1:
                prev, nxt = tokens[i - 1], tokens[i + 1]
                if prev.end == tok.start and prev.norm[:1].isalnum() and nxt.text[:1].islower():
                    gap = text[tok.end : nxt.start]
                    if (tok.text == SOFT_HYPHEN and not gap) or ("\n" in gap and not gap.strip()):
                        join_next = True
            continue
        if ("-" in norm or "\u2010" in norm or "\u2011" in norm) and norm[:1].isalnum():
            base = tok.start
            for m in _HYPHEN_SPLIT_RE.finditer(norm):
                raw.append((m.group(), base + m.start(), base + m.end(), join_next))
                join_next = False
        else:
            raw.append((norm, tok.start, tok.end, join_next))
            join_next = False
    out: list[Piece] = []
    wpos = 0
    for norm, start, end, cont in raw:
        if cont and out:
            prev_piece = out[-1]
            out[-1] = Piece(
                prev_piece.norm + norm,
                prev_piece.start,
                end,
                prev_piece.wpos,
                (prev_piece.norm, norm),
            )
            continue
        out.append(Piece(norm, start, end, wpos))
        first = norm[:1]
        if first.isalnum() or first == "*":
            wpos += 1
    return out


def gate_string(text: str) -> str:
    """Lower-cased ``text`` with all white space and hyphens removed.

    Equal to ``"".join(p.norm for p in pieces_of(text))`` (ASCII fast path).
    """
    if text.isascii():
        return text.lower().translate(_ASCII_GATE_DELETE)
    return "".join(p.norm for p in pieces_of(text))


@dataclass(slots=True)
class DocumentIndex:
    """Pieces of one document plus lookup tables built on first use."""

    text: str
    pieces: list[Piece] = field(init=False)
    _by_norm: dict[str, list[int]] | None = field(init=False, default=None)
    _by_first_part: dict[str, list[int]] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.pieces = pieces_of(self.text)

    def _build(self) -> None:
        by_norm: dict[str, list[int]] = {}
        by_first: dict[str, list[int]] = {}
        for i, p in enumerate(self.pieces):
            by_norm.setdefault(p.norm, []).append(i)
            if p.parts is not None:
                by_first.setdefault(p.parts[0], []).append(i)
        self._by_norm = by_norm
        self._by_first_part = by_first

    @property
    def by_norm(self) -> dict[str, list[int]]:
        """Piece indices for every norm in the document."""
        if self._by_norm is None:
            self._build()
        assert self._by_norm is not None
        return self._by_norm

    @property
    def by_first_part(self) -> dict[str, list[int]]:
        """Indices of line-break-joined pieces, keyed by their first half."""
        if self._by_first_part is None:
            self._build()
        assert self._by_first_part is not None
        return self._by_first_part
