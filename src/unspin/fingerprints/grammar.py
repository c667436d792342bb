"""The Problematic Paper Screener query grammar: parser, AST and evaluation.

PPS fingerprints are search queries, not plain phrases:
``"malignant growth" AND "cancer"``, ``"surface highlights" NOT specular``,
``"exactness accuracy"~5``, ``"straight administrator" AND ("as follows" OR
"equation")``. This module implements that grammar exactly and explicitly:

Grammar (operators are upper case, as in the PPS export; precedence
``NOT`` > ``AND`` > ``OR``; parentheses group)::

    query    := or_expr END
    or_expr  := and_expr ("OR" and_expr)*
    and_expr := not_expr ("AND" ["NOT"] not_expr)*     # "A AND NOT B" == "A NOT B"
    not_expr := primary ("NOT" primary)*
    primary  := PHRASE | PHRASE "~" N | TERM | "(" or_expr ")"

``PHRASE`` is text between straight (or curly) double quotes; ``TERM`` is an
unquoted word such as ``specular``. Two operands without an operator between
them are an error (we do not guess between AND and OR).

Semantics, evaluated against a :class:`~unspin.fingerprints.document.DocumentIndex`
(folded pieces: lower case, hyphens as separators, line-break hyphenation
undone):

* ``Phrase``: the words occur as consecutive pieces. Punctuation inside the
  quotes is matched as pieces too (``"Data Innovation (IT)"``). ``*`` inside a
  word matches any run of characters within one piece (``netw*``); a ``*`` on
  its own matches exactly one word piece.
* ``Term``: an unquoted word; matched exactly like a one-word phrase (no
  stemming: write ``network*`` for variants).
* ``Proximity`` ``"w1 ... wk"~N``: every word occurs, at distinct word
  positions, in any order, with at most ``N`` other words between the first
  and the last of them (so the window spans at most ``k + N`` words;
  punctuation does not count). ``~0`` is "adjacent in any order". Lucene's
  slop charges extra for reordering; we do not, because PPS uses proximity to
  catch word-order shuffles. A window of ``N`` positions cannot be meant
  literally: ``"revolution scaling interpretation"~2`` has three words.
* ``And``: every child occurs somewhere in the document; the reported spans
  are those of the first child.
* ``Or``: any child occurs; the spans of every matching child are reported.
* ``Not`` (``A NOT B``): ``A`` occurs and ``B`` occurs nowhere in the
  document. A query must have a positive clause; ``NOT B`` alone is rejected
  because it would match almost every document.

Every node prints back as canonical query text (``str(node)``), which is the
``clause`` reported with each hit.

>>> q = parse('"brain organization" AND "neural network"')
>>> [m.clause for m in evaluate(q, "a brain organization, i.e. a neural network")]
['"brain organization"']
>>> evaluate(q, "a neural network")
[]
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from unspin.errors import FormatError
from unspin.fingerprints.document import DocumentIndex, pieces_of

__all__ = [
    "And",
    "ClauseMatch",
    "Node",
    "Not",
    "Or",
    "Phrase",
    "Proximity",
    "Term",
    "evaluate",
    "features",
    "occurs",
    "parse",
    "positive_phrases",
]

MAX_QUERY_CHARS = 2000
MAX_PROXIMITY = 1000


# ---------------------------------------------------------------- AST


@dataclass(frozen=True, slots=True)
class Phrase:
    """Consecutive words; ``wildcards`` are the indices of words containing ``*``."""

    words: tuple[str, ...]
    wildcards: tuple[int, ...]

    def __str__(self) -> str:
        return '"' + " ".join(self.words) + '"'


@dataclass(frozen=True, slots=True)
class Term:
    """An unquoted word (hyphenated terms fold to several pieces)."""

    words: tuple[str, ...]
    wildcards: tuple[int, ...]

    def __str__(self) -> str:
        return "-".join(self.words)


@dataclass(frozen=True, slots=True)
class Proximity:
    """All ``words`` within ``n`` intervening words of each other, any order."""

    words: tuple[str, ...]
    n: int

    def __str__(self) -> str:
        return '"' + " ".join(self.words) + f'"~{self.n}'


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]

    def __str__(self) -> str:
        return " AND ".join(_wrap(c, (Or,)) for c in self.children)


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]

    def __str__(self) -> str:
        return " OR ".join(str(c) for c in self.children)


@dataclass(frozen=True, slots=True)
class Not:
    """``positive NOT negative``."""

    positive: Node
    negative: Node

    def __str__(self) -> str:
        return f"{_wrap(self.positive, (Or, And))} NOT {_wrap(self.negative, (Or, And, Not))}"


Node = Phrase | Term | Proximity | And | Or | Not


def _wrap(node: Node, kinds: tuple[type, ...]) -> str:
    return f"({node})" if isinstance(node, kinds) else str(node)


@dataclass(frozen=True, slots=True)
class ClauseMatch:
    """One occurrence: character offsets into the exact input, and the clause."""

    start: int
    end: int
    clause: str


# ---------------------------------------------------------------- lexer


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # PHRASE, PROX, TERM, AND, OR, NOT, LP, RP, END
    value: str
    col: int
    n: int = 0


_OPEN_QUOTES = {'"': '"', "“": "”", "”": "”", "„": "”"}
_CLOSE_QUOTES = frozenset('"”“')
_BARE_STOP = frozenset('()"“”„')


def _lex(query: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(query)
    while i < n:
        ch = query[i]
        if ch.isspace():
            i += 1
            continue
        col = i + 1
        if ch == "(":
            toks.append(_Tok("LP", ch, col))
            i += 1
        elif ch == ")":
            toks.append(_Tok("RP", ch, col))
            i += 1
        elif ch in _OPEN_QUOTES:
            j = i + 1
            while j < n and query[j] not in _CLOSE_QUOTES:
                j += 1
            if j >= n:
                raise FormatError(
                    f"unclosed quote at column {col}; every phrase needs a closing double quote"
                )
            content = query[i + 1 : j]
            i = j + 1
            if i < n and query[i] == "~":
                m = re.match(r"~(\d+)", query[i:])
                if m is None:
                    raise FormatError(
                        f"'~' at column {i + 1} must be followed by a number of words, "
                        'as in "a b"~5'
                    )
                dist = int(m.group(1))
                if dist > MAX_PROXIMITY:
                    raise FormatError(
                        f"proximity ~{dist} at column {i + 1} is larger than {MAX_PROXIMITY}; "
                        "use AND for words anywhere in the document"
                    )
                toks.append(_Tok("PROX", content, col, dist))
                i += m.end()
            else:
                toks.append(_Tok("PHRASE", content, col))
        else:
            j = i
            while j < n and not query[j].isspace() and query[j] not in _BARE_STOP:
                j += 1
            word = query[i:j]
            i = j
            if word in ("AND", "OR", "NOT"):
                toks.append(_Tok(word, word, col))
                continue
            if word in ("&&", "||", "!"):
                raise FormatError(
                    f"operator {word!r} at column {col} is not supported; write AND, OR or NOT"
                )
            if word[0] in "+-":
                raise FormatError(
                    f"prefix {word[0]!r} on {word!r} at column {col} is not supported; "
                    "write AND or NOT between clauses"
                )
            if "~" in word:
                raise FormatError(
                    f"{word!r} at column {col}: fuzzy search (word~N) is not supported; "
                    'for proximity quote the words: "a b"~N'
                )
            toks.append(_Tok("TERM", word, col))
    toks.append(_Tok("END", "", n + 1))
    return toks


# ---------------------------------------------------------------- parser


def _phrase_words(content: str, col: int, what: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Fold phrase text exactly as documents are folded; keep ``*`` in words."""
    pieces = pieces_of(content)
    words: list[str] = []
    prev_end = -1
    for p in pieces:
        prev = words[-1] if words and p.start == prev_end else ""
        glue = (p.norm == "*" and (prev[-1:].isalnum() or prev.endswith("*"))) or (
            prev.endswith("*") and p.norm[:1].isalnum()
        )
        if glue:
            words[-1] += p.norm
        else:
            words.append(p.norm)
        prev_end = p.end
    if not words:
        raise FormatError(f"empty {what} at column {col}; put at least one word between quotes")
    if all(set(w) <= {"*"} for w in words):
        raise FormatError(
            f"{what} at column {col} has only wildcards; it would match every document"
        )
    words = [re.sub(r"\*+", "*", w) for w in words]
    wild = tuple(i for i, w in enumerate(words) if "*" in w)
    return tuple(words), wild


class _Parser:
    def __init__(self, query: str) -> None:
        self.toks = _lex(query)
        self.i = 0

    def peek(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def parse(self) -> Node:
        if self.peek().kind == "END":
            raise FormatError("empty query; write at least one quoted phrase")
        node = self.or_expr()
        tok = self.peek()
        if tok.kind == "RP":
            raise FormatError(f"unbalanced ')' at column {tok.col}; remove it or add a '('")
        if tok.kind != "END":
            raise FormatError(
                f"missing operator before {_describe(tok)} at column {tok.col}; "
                "write AND or OR between clauses"
            )
        return node

    def or_expr(self) -> Node:
        children = [self.and_expr()]
        while self.peek().kind == "OR":
            self.take()
            children.append(self.and_expr())
        return children[0] if len(children) == 1 else Or(_flatten(children, Or))

    def and_expr(self) -> Node:
        node = self.not_expr()
        children = [node]
        while self.peek().kind == "AND":
            self.take()
            if self.peek().kind == "NOT":  # "A AND NOT B" == "A NOT B"
                self.take()
                negative = self.not_expr()
                left: Node = children[0] if len(children) == 1 else And(_flatten(children, And))
                children = [Not(left, negative)]
            else:
                children.append(self.not_expr())
        return children[0] if len(children) == 1 else And(_flatten(children, And))

    def not_expr(self) -> Node:
        node = self.primary()
        while self.peek().kind == "NOT":
            self.take()
            node = Not(node, self.primary())
        return node

    def primary(self) -> Node:
        tok = self.take()
        if tok.kind == "PHRASE":
            words, wild = _phrase_words(tok.value, tok.col, "phrase")
            return Phrase(words, wild)
        if tok.kind == "PROX":
            words, _ = _phrase_words(tok.value, tok.col, "proximity phrase")
            words = tuple(w for w in words if w[:1].isalnum() or w[:1] == "*")
            if not words:
                raise FormatError(
                    f"proximity phrase at column {tok.col} has no words, only punctuation"
                )
            return Proximity(words, tok.n)
        if tok.kind == "TERM":
            words, wild = _phrase_words(tok.value, tok.col, "term")
            return Term(words, wild)
        if tok.kind == "LP":
            if self.peek().kind == "RP":
                raise FormatError(f"empty parentheses at column {tok.col}")
            node = self.or_expr()
            close = self.take()
            if close.kind != "RP":
                raise FormatError(
                    f"'(' at column {tok.col} is never closed; add ')' before "
                    f"{_describe(close)} at column {close.col}"
                )
            return node
        if tok.kind == "NOT":
            raise FormatError(
                f"NOT at column {tok.col} has no positive clause before it; write "
                '"A" NOT "B" (a query of only NOT would match almost every document)'
            )
        if tok.kind in ("AND", "OR"):
            raise FormatError(f"{tok.kind} at column {tok.col} needs a clause on its left")
        if tok.kind == "RP":
            raise FormatError(f"unexpected ')' at column {tok.col}")
        raise FormatError("query ends after an operator; add the missing clause")


def _describe(tok: _Tok) -> str:
    if tok.kind in ("PHRASE", "PROX"):
        return f'"{tok.value}"'
    if tok.kind == "END":
        return "the end of the query"
    return repr(tok.value)


def _flatten(children: list[Node], kind: type[And] | type[Or]) -> tuple[Node, ...]:
    out: list[Node] = []
    for c in children:
        if isinstance(c, kind):
            out.extend(c.children)
        else:
            out.append(c)
    return tuple(out)


@lru_cache(maxsize=65536)
def parse(query: str) -> Node:
    """Parse a PPS query into an AST; raise :class:`FormatError` with a reason."""
    if not isinstance(query, str):
        raise FormatError(f"a query must be str, not {type(query).__name__}")
    if len(query) > MAX_QUERY_CHARS:
        raise FormatError(f"query is {len(query)} characters; the limit is {MAX_QUERY_CHARS}")
    return _Parser(query).parse()


# ---------------------------------------------------------------- introspection


def features(node: Node) -> set[str]:
    """The constructs a query uses: phrase, term, proximity, wildcard, and, or, not."""
    out: set[str] = set()
    for sub in _walk(node):
        if isinstance(sub, Phrase):
            out.add("phrase")
            if sub.wildcards:
                out.add("wildcard")
        elif isinstance(sub, Term):
            out.add("term")
            if sub.wildcards:
                out.add("wildcard")
        elif isinstance(sub, Proximity):
            out.add("proximity")
            if any("*" in w for w in sub.words):
                out.add("wildcard")
        else:
            out.add(type(sub).__name__.lower())
    return out


def _walk(node: Node) -> Iterator[Node]:
    yield node
    if isinstance(node, And | Or):
        for c in node.children:
            yield from _walk(c)
    elif isinstance(node, Not):
        yield from _walk(node.positive)
        yield from _walk(node.negative)


def positive_phrases(node: Node) -> list[Phrase | Term | Proximity]:
    """The leaf clauses whose occurrence is reported (the "first positive" path).

    For ``And`` and ``Not`` this is the first positive child; for ``Or`` every
    child contributes. Any match of the query contains an occurrence of at
    least one of these leaves, which is what makes them usable as anchors.
    """
    if isinstance(node, Phrase | Term | Proximity):
        return [node]
    if isinstance(node, And):
        return positive_phrases(node.children[0])
    if isinstance(node, Not):
        return positive_phrases(node.positive)
    out: list[Phrase | Term | Proximity] = []
    for c in node.children:
        out.extend(positive_phrases(c))
    return out


# ---------------------------------------------------------------- evaluation


@lru_cache(maxsize=4096)
def _wild_re(word: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if ch == "*" else re.escape(ch) for ch in word), re.DOTALL)


def _word_ok(word: str, norm: str) -> bool:
    if "*" in word:
        if word == "*":
            return norm[:1].isalnum()
        return _wild_re(word).fullmatch(norm) is not None
    return word == norm


def _candidates(word: str, doc: DocumentIndex) -> list[int]:
    """Piece indices where ``word`` could start (own norm or first half)."""
    if "*" not in word:
        a = doc.by_norm.get(word, [])
        b = doc.by_first_part.get(word, [])
        return sorted(set(a) | set(b)) if b else a
    hits: set[int] = set()
    for norm, idxs in doc.by_norm.items():
        if _word_ok(word, norm):
            hits.update(idxs)
    for part, idxs in doc.by_first_part.items():
        if _word_ok(word, part):
            hits.update(idxs)
    return sorted(hits)


def _match_at(words: tuple[str, ...], doc: DocumentIndex, i: int) -> int | None:
    """End piece index (exclusive) if ``words`` match starting at piece ``i``."""
    pieces = doc.pieces
    j, k, n = 0, i, len(pieces)
    while j < len(words):
        if k >= n:
            return None
        p = pieces[k]
        if _word_ok(words[j], p.norm):
            j += 1
        elif (
            p.parts is not None
            and j + 1 < len(words)
            and _word_ok(words[j], p.parts[0])
            and _word_ok(words[j + 1], p.parts[1])
        ):
            j += 2
        else:
            return None
        k += 1
    return k


def _eval_sequence(node: Phrase | Term, doc: DocumentIndex) -> list[ClauseMatch]:
    clause = str(node)
    out: list[ClauseMatch] = []
    last_end = -1
    pieces = doc.pieces
    for i in _candidates(node.words[0], doc):
        if i < last_end:
            continue
        k = _match_at(node.words, doc, i)
        if k is not None:
            out.append(ClauseMatch(pieces[i].start, pieces[k - 1].end, clause))
            last_end = k
    return out


def _assign(
    window: list[tuple[int, int, frozenset[int]]], k: int
) -> list[tuple[int, int, frozenset[int]]] | None:
    """Assign each of ``k`` words to a distinct event in ``window`` (tiny bipartite match)."""
    owner: dict[int, int] = {}  # event index -> word

    def place(word: int, seen: set[int]) -> bool:
        for e, (_, _, ws) in enumerate(window):
            if word in ws and e not in seen:
                seen.add(e)
                if e not in owner or place(owner[e], seen):
                    owner[e] = word
                    return True
        return False

    for w in range(k):
        if not place(w, set()):
            return None
    return [window[e] for e in sorted(owner)]


def _eval_proximity(node: Proximity, doc: DocumentIndex) -> list[ClauseMatch]:
    pieces = doc.pieces
    matched: dict[int, set[int]] = {}
    for w, word in enumerate(node.words):
        for i in _candidates(word, doc):
            if _word_ok(word, pieces[i].norm):
                matched.setdefault(i, set()).add(w)
    events = sorted((pieces[i].wpos, i, frozenset(ws)) for i, ws in matched.items())
    k = len(node.words)
    limit = node.n + k - 1
    clause = str(node)
    out: list[ClauseMatch] = []
    last_wpos = -1
    for left in range(len(events)):
        if events[left][0] <= last_wpos:
            continue
        for right in range(left + k - 1, len(events)):
            if events[right][0] - events[left][0] > limit:
                break
            used = _assign(events[left : right + 1], k)
            if used is not None:
                first, last = used[0][1], used[-1][1]
                out.append(ClauseMatch(pieces[first].start, pieces[last].end, clause))
                last_wpos = used[-1][0]
                break
    return out


def _eval(node: Node, doc: DocumentIndex) -> list[ClauseMatch]:
    if isinstance(node, Phrase | Term):
        return _eval_sequence(node, doc)
    if isinstance(node, Proximity):
        return _eval_proximity(node, doc)
    if isinstance(node, And):
        first = _eval(node.children[0], doc)
        if not first:
            return []
        for child in node.children[1:]:
            if not _eval(child, doc):
                return []
        return first
    if isinstance(node, Or):
        seen: set[tuple[int, int, str]] = set()
        out: list[ClauseMatch] = []
        for child in node.children:
            for m in _eval(child, doc):
                key = (m.start, m.end, m.clause)
                if key not in seen:
                    seen.add(key)
                    out.append(m)
        out.sort(key=lambda m: (m.start, m.end))
        return out
    pos = _eval(node.positive, doc)
    if not pos or _eval(node.negative, doc):
        return []
    return pos


def evaluate(query: Node | str, doc: DocumentIndex | str) -> list[ClauseMatch]:
    """Occurrences of ``query`` in ``doc`` (empty list: no match)."""
    node = parse(query) if isinstance(query, str) else query
    index = DocumentIndex(doc) if isinstance(doc, str) else doc
    return _eval(node, index)


def occurs(query: Node | str, doc: DocumentIndex | str) -> bool:
    """Whether ``query`` matches ``doc`` anywhere."""
    return bool(evaluate(query, doc))
