"""Immutables: the tokens spinners are configured to keep.

Names, numbers, acronyms and quoted words survive spinning. The spinner
simulator protects them (like real spinners) and tracing indexes them
(because they survive). Both read the same per-token roles from here, so
"what counts as a name" has one definition.

A capitalised token counts as a name when it does not start a sentence, or
when it starts one but opens a multi-word capitalised sequence ("Time
Warner said ..."). Quotes toggle on straight double quotes and open/close on
curly and angle quotes; an unbalanced quote never spans a blank line.
"""

from __future__ import annotations

from dataclasses import dataclass

from unspin.text.sentences import split_sentences
from unspin.text.tokenize import Token

OPEN_QUOTES = frozenset({"“", "«"})
CLOSE_QUOTES = frozenset({"”", "»"})


@dataclass(frozen=True, slots=True)
class Role:
    quote_mark: bool  # the token is itself a double quote
    in_quote: bool  # inside a quotation (quote marks: the state before them)
    capitalised: bool  # a capitalised name by the rule above
    all_caps: bool  # acronym or all-caps word (two characters or more)


def sentence_starts(text: str, tokens: list[Token]) -> set[int]:
    """Start offsets of the first word of each sentence."""
    starts: set[int] = set()
    for sent in split_sentences(text, tokens):
        for tok in sent:
            if tok.norm[:1].isalnum():
                starts.add(tok.start)
                break
    return starts


def token_roles(text: str, tokens: list[Token]) -> list[Role]:
    starts = sentence_starts(text, tokens)
    roles: list[Role] = []
    in_quote = False
    prev_end = 0
    for idx, tok in enumerate(tokens):
        if "\n\n" in text[prev_end : tok.start]:
            in_quote = False
        prev_end = tok.end
        if tok.text in OPEN_QUOTES or tok.text in CLOSE_QUOTES or tok.text == '"':
            roles.append(Role(True, in_quote, False, False))
            in_quote = tok.text in OPEN_QUOTES or (tok.text == '"' and not in_quote)
            continue
        surface = tok.text
        nxt = tokens[idx + 1].text if idx + 1 < len(tokens) else ""
        capitalised = surface[:1].isupper() and (
            tok.start not in starts or (nxt[:1].isupper() and text[tok.end : tok.end + 1] == " ")
        )
        all_caps = len(surface) > 1 and surface.isupper()
        roles.append(Role(False, in_quote, capitalised, all_caps))
    return roles
