"""Sentence splitting over tokens.

Decoding works sentence by sentence: the language model's context does not
cross sentence boundaries, which bounds the lattice and lets a 1 MB line be
processed in linear time. The rule is deliberately simple and conservative
(a split needs terminal punctuation followed by an upper-case or quote token,
or a blank line); a missed split only costs a little context, never an offset.
"""

from __future__ import annotations

from unspin.text.tokenize import Token

_TERMINAL = {".", "!", "?"}
_CLOSERS = {'"', "'", ")", "]", "”", "’"}
_MAX_SENTENCE_TOKENS = 120


def split_sentences(text: str, tokens: list[Token]) -> list[list[Token]]:
    """Group ``tokens`` into sentences; very long runs are cut every 120 tokens."""
    sentences: list[list[Token]] = []
    current: list[Token] = []
    n = len(tokens)
    for i, tok in enumerate(tokens):
        if current:
            prev_end = current[-1].end
            # a gap under two characters cannot hold two newlines (no slice)
            if (tok.start - prev_end >= 2 and text.count("\n", prev_end, tok.start) >= 2) \
                    or len(current) >= _MAX_SENTENCE_TOKENS:
                sentences.append(current)
                current = []
        current.append(tok)
        surface = tok.text
        if surface in _TERMINAL or (surface in _CLOSERS and len(current) > 1
                                    and current[-2].text in _TERMINAL):
            nxt = tokens[i + 1] if i + 1 < n else None
            if nxt is None:
                continue
            if nxt.text in _CLOSERS and tok.text in _TERMINAL and nxt.start == tok.end:
                continue  # '."' closes a quote: split after the quote
            first = nxt.text[:1]
            if first.isupper() or first.isdigit() or first in {'"', "“", "‘", "'"}:
                # "U.S." style abbreviations are single tokens already; a lone
                # capital initial ("J. Smith") should not end a sentence.
                if tok.text == "." and len(current) >= 2 and len(current[-2].text) == 1 \
                        and current[-2].text.isupper():
                    continue
                sentences.append(current)
                current = []
    if current:
        sentences.append(current)
    return sentences
