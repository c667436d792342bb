"""Text layer: tokens with offsets, sentences, lemmas, inflection and case.

Nothing in this package changes the input string; every token keeps offsets
into the exact text the caller passed.
"""

from unspin.text.morph import inflect, lemmas, transfer_case
from unspin.text.sentences import split_sentences
from unspin.text.tokenize import Token, normalize_token, tokenize, words

__all__ = [
    "Token",
    "inflect",
    "lemmas",
    "normalize_token",
    "split_sentences",
    "tokenize",
    "transfer_case",
    "words",
]
