"""The fast tier: n-gram language models.

Two ways to get one:

* ``build_ngram(texts, out)`` trains an interpolated Kneser-Ney model of order
  3 on any text a user has (a newsroom archive, a journal's back issues) and
  writes a standard ARPA file. Pure Python counting; 3.5 M words take about a
  minute. ``unspin lm build CORPUS...`` is the CLI door.
* ``build_default_ngram(out)`` turns the Norvig web unigram/bigram counts that
  ship in the Apache-licensed ``wordsegment`` package into an absolute-
  discounting bigram ARPA. This is what works out of the box; it knows general
  English but is sparse for collocations, so a domain model is better.

Queries go through ``kenlm`` (C++, about a microsecond per word). The LM sees
lower-cased word and number tokens only: punctuation is dropped, because the
default web counts have none and spinners rarely touch it.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from unspin.errors import ResourceError
from unspin.text.sentences import split_sentences
from unspin.text.tokenize import tokenize

LOG10 = math.log(10.0)


def lm_words(text: str) -> Iterator[list[str]]:
    """Sentences of LM tokens (lower-case words and numbers) from raw text."""
    toks = tokenize(text)
    for sent in split_sentences(text, toks):
        out = [t.norm for t in sent if t.norm[:1].isalnum()]
        if out:
            yield out


def _discount(counts: Iterable[int]) -> float:
    n1 = n2 = 0
    for c in counts:
        if c == 1:
            n1 += 1
        elif c == 2:
            n2 += 1
    if n1 == 0:
        return 0.5
    return max(0.05, min(0.95, n1 / (n1 + 2 * n2)))


def build_ngram(
    texts: Iterable[str], out_path: str | Path, order: int = 3, min_count: int = 1
) -> Path:
    """Train an interpolated Kneser-Ney trigram model and write it as ARPA.

    ``min_count`` > 1 prunes rare trigrams (their mass goes to the backoff).
    """
    if order != 3:
        raise ValueError("only order=3 is implemented")
    out = Path(out_path)
    tri: Counter[tuple[str, str, str]] = Counter()
    bi_raw: Counter[tuple[str, str]] = Counter()  # (<s>, first word): raw counts
    for text in texts:
        for sent in lm_words(text):
            seq = ["<s>", *sent, "</s>"]
            bi_raw[("<s>", seq[1])] += 1
            for i in range(2, len(seq)):
                tri[(seq[i - 2], seq[i - 1], seq[i])] += 1
    if not tri:
        raise ValueError("no text to train on: the corpus has no words")
    if min_count > 1:
        tri = Counter({k: v for k, v in tri.items() if v >= min_count})

    # Bigram counts: continuation counts N1+(. v w), except raw counts after <s>.
    bi_cont: Counter[tuple[str, str]] = Counter()
    for (_u, v, w) in tri:
        bi_cont[(v, w)] += 1
    bigram: dict[tuple[str, str], int] = dict(bi_cont)
    bigram.update(bi_raw)  # after <s> there is no left context: raw counts
    # trigram contexts must exist as bigrams (pruning may have removed some)
    for (u, v, _w) in tri:
        bigram.setdefault((u, v), 1)
    uni_cont: Counter[str] = Counter()
    for (_v, w) in bigram:
        uni_cont[w] += 1

    d3 = _discount(tri.values())
    d2 = _discount(bigram.values())

    # Unigram distribution (continuation counts), with <unk> given the mass of
    # one singleton so unknown words are possible but costly.
    total_u = sum(uni_cont.values()) + 1
    p1 = {w: c / total_u for w, c in uni_cont.items()}
    p1["<unk>"] = 1.0 / total_u

    # Bigram level.
    ctx2_total: dict[str, int] = defaultdict(int)
    ctx2_types: dict[str, int] = defaultdict(int)
    for (v, _w), c in bigram.items():
        ctx2_total[v] += c
        ctx2_types[v] += 1
    gamma2 = {v: d2 * ctx2_types[v] / ctx2_total[v] for v in ctx2_total}
    p2: dict[tuple[str, str], float] = {}
    for (v, w), c in bigram.items():
        p2[(v, w)] = max(c - d2, 0.0) / ctx2_total[v] + gamma2[v] * p1.get(w, p1["<unk>"])

    def p2_full(v: str, w: str) -> float:
        got = p2.get((v, w))
        if got is not None:
            return got
        return gamma2.get(v, 1.0) * p1.get(w, p1["<unk>"])

    # Trigram level.
    ctx3_total: dict[tuple[str, str], int] = defaultdict(int)
    ctx3_types: dict[tuple[str, str], int] = defaultdict(int)
    for (u, v, _w), c in tri.items():
        ctx3_total[(u, v)] += c
        ctx3_types[(u, v)] += 1
    gamma3 = {k: d3 * ctx3_types[k] / ctx3_total[k] for k in ctx3_total}

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write("\\data\\\n")
        fh.write(f"ngram 1={len(p1) + 1}\n")
        fh.write(f"ngram 2={len(p2)}\n")
        fh.write(f"ngram 3={len(tri)}\n\n\\1-grams:\n")
        fh.write(f"-99\t<s>\t{math.log10(gamma2.get('<s>', 1.0)):.6f}\n")
        for w, p in p1.items():
            bow = gamma2.get(w)
            if bow is not None:
                fh.write(f"{math.log10(p):.6f}\t{w}\t{math.log10(bow):.6f}\n")
            else:
                fh.write(f"{math.log10(p):.6f}\t{w}\n")
        fh.write("\n\\2-grams:\n")
        for (v, w), p in p2.items():
            bow = gamma3.get((v, w))
            if bow is not None:
                fh.write(f"{math.log10(p):.6f}\t{v} {w}\t{math.log10(bow):.6f}\n")
            else:
                fh.write(f"{math.log10(p):.6f}\t{v} {w}\n")
        fh.write("\n\\3-grams:\n")
        for (u, v, w), c in tri.items():
            p = max(c - d3, 0.0) / ctx3_total[(u, v)] + gamma3[(u, v)] * p2_full(v, w)
            fh.write(f"{math.log10(p):.6f}\t{u} {v} {w}\n")
        fh.write("\n\\end\\\n")
    tmp.replace(out)
    return out


def _arpa_ngrams(path: Path) -> dict[int, set[tuple[str, ...]]]:
    """The n-grams an ARPA file lists, by order (probabilities are read from kenlm)."""
    out: dict[int, set[tuple[str, ...]]] = defaultdict(set)
    order = 0
    with path.open(encoding="utf-8") as fh:
        for raw in fh:
            line = raw.rstrip("\n")
            if line.startswith("\\"):
                order = int(line[1:line.index("-")]) if line.endswith("-grams:") else 0
                continue
            if order and line:
                fields = line.split("\t")
                if len(fields) >= 2:
                    out[order].add(tuple(fields[1].split(" ")))
    return out


def mix_ngram(first: str | Path, second: str | Path, weight: float,
              out_path: str | Path) -> Path:
    """Interpolate two ARPA models into one: weight * P_first + (1 - weight) * P_second.

    Why: a model built from a small archive knows its collocations but not
    the vocabulary of the next story, and the default web-count model knows
    the vocabulary but few collocations; an unknown word looks spun to either
    alone. Every n-gram listed by either model gets the mixed probability of
    its word after its context, each model read with its own back-off. A word
    outside one model's vocabulary gets that model's ``<unk>`` probability in
    the context, shared out over the words it does not know in proportion to
    the other model's unigram probabilities (so a small archive's large
    unknown-word mass goes to the words the other model knows, not to one
    ``<unk>`` that would outscore them). Every context gets the back-off
    weight that makes its distribution sum to one. What neither model lists backs off in the
    mixture: the static approximation of linear interpolation SRILM's
    ``-mix-lm`` makes. The order is the higher of the two.
    """
    import kenlm

    if not 0.0 < weight < 1.0:
        raise ValueError(f"the mixture weight must be between 0 and 1, not {weight}")
    paths = (Path(first), Path(second))
    for p in paths:
        if not p.is_file():
            raise ResourceError(f"n-gram model {p} not found")
    with _quiet_stderr():
        models = [kenlm.Model(str(p)) for p in paths]
    listed = [_arpa_ngrams(p) for p in paths]
    order = max(int(m.order) for m in models)
    ngrams = {n: sorted(listed[0].get(n, set()) | listed[1].get(n, set()))
              for n in range(1, order + 1)}

    states: list[dict[tuple[str, ...], Any]] = [{}, {}]

    def state(k: int, context: tuple[str, ...]) -> Any:
        got = states[k].get(context)
        if got is None:
            model = models[k]
            got = kenlm.State()
            if context[:1] == ("<s>",):
                model.BeginSentenceWrite(got)
                context_words = context[1:]
            else:
                model.NullContextWrite(got)
                context_words = context
            for word in context_words:
                nxt = kenlm.State()
                model.BaseScore(got, word, nxt)
                got = nxt
            if len(states[k]) > 100_000:
                states[k].clear()
            states[k][context] = got
        return got

    def unigram(k: int, word: str) -> float:
        st = kenlm.State()
        models[k].NullContextWrite(st)
        return float(10.0 ** models[k].BaseScore(st, word, kenlm.State()))

    def known(k: int, word: str) -> bool:
        return word in ("</s>", "<s>") or (word != "<unk>" and word in models[k])

    # each model's unknown-word mass, shared out by the other's unigrams over
    # what it does not know (the other's own <unk> included)
    # (fsum: exact, so the order of the set does not matter)
    unknown_mass = [
        math.fsum(unigram(1 - k, g[0]) for g in listed[1 - k].get(1, set())
                  if g[0] not in ("<s>", "<unk>") and not known(k, g[0]))
        + unigram(1 - k, "<unk>") for k in (0, 1)]

    def conditional(k: int, context: tuple[str, ...], word: str) -> float:
        if known(k, word):
            return float(10.0 ** models[k].BaseScore(state(k, context), word, kenlm.State()))
        p_unk = float(10.0 ** models[k].BaseScore(state(k, context), "<unk>", kenlm.State()))
        return p_unk * unigram(1 - k, word) / max(unknown_mass[k], 1e-12)

    prob: dict[tuple[str, ...], float] = {}
    for n in range(1, order + 1):
        for gram in ngrams[n]:
            context, word = gram[:-1], gram[-1]
            if word == "<s>":
                continue
            prob[gram] = (weight * conditional(0, context, word)
                          + (1.0 - weight) * conditional(1, context, word))
    unk = prob.get(("<unk>",), 1e-9)

    bows: dict[tuple[str, ...], float] = {}

    def mixed(context: tuple[str, ...], word: str) -> float:
        """The mixed model's own probability (explicit, else backed off)."""
        got = prob.get((*context, word))
        if got is not None:
            return got
        if not context:
            return unk
        return bows.get(context, 1.0) * mixed(context[1:], word)

    for n in range(2, order + 1):
        kept: dict[tuple[str, ...], float] = defaultdict(float)
        lower: dict[tuple[str, ...], float] = defaultdict(float)
        for gram in ngrams[n]:
            if gram in prob:
                kept[gram[:-1]] += prob[gram]
                lower[gram[:-1]] += mixed(gram[1:-1], gram[-1])
        for context, mass in kept.items():
            bows[context] = max(1e-9, 1.0 - mass) / max(1e-9, 1.0 - lower[context])

    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write("\\data\\\n")
        for n in range(1, order + 1):
            fh.write(f"ngram {n}={sum(g in prob for g in ngrams[n]) + (n == 1)}\n")
        for n in range(1, order + 1):
            fh.write(f"\n\\{n}-grams:\n")
            if n == 1:
                fh.write(f"-99\t<s>\t{math.log10(bows.get(('<s>',), 1.0)):.6f}\n")
            for gram in ngrams[n]:
                got = prob.get(gram)
                if got is None:
                    continue
                line = f"{math.log10(max(got, 1e-12)):.6f}\t{' '.join(gram)}"
                bow = bows.get(gram) if n < order else None
                fh.write(f"{line}\t{math.log10(bow):.6f}\n" if bow is not None else line + "\n")
        fh.write("\n\\end\\\n")
    tmp.replace(out)
    return out


def _wordsegment_dir() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("wordsegment")
    if spec is None or not spec.submodule_search_locations:
        raise ResourceError("the default n-gram counts are missing: pip install wordsegment")
    return Path(next(iter(spec.submodule_search_locations)))


def web_unigram_counts() -> Counter[str]:
    """Norvig's web unigram counts shipped in ``wordsegment`` (word -> count)."""
    uni: Counter[str] = Counter()
    with (_wordsegment_dir() / "unigrams.txt").open(encoding="utf-8") as fh:
        for line in fh:
            w, _, count = line.rstrip("\n").partition("\t")
            if w and count:
                uni[w] += int(count)
    return uni


def build_default_ngram(out_path: str | Path, discount: float = 0.75) -> Path:
    """Bigram ARPA from Norvig's web counts shipped in ``wordsegment``."""
    base = _wordsegment_dir()
    uni = web_unigram_counts()
    bi: Counter[tuple[str, str]] = Counter()
    with (base / "bigrams.txt").open(encoding="utf-8") as fh:
        for line in fh:
            pair, _, count = line.rstrip("\n").partition("\t")
            parts = pair.split(" ")
            if len(parts) == 2 and count:
                bi[(parts[0], parts[1])] += int(count)
    # Sentence boundaries are not in web counts: approximate <s> and </s> with
    # the unigram distribution (no extra information, but valid probabilities).
    total = sum(uni.values())
    # Norvig's unigram list is truncated; give <unk> the mass of the rarest word.
    floor = min(uni.values())
    p1 = {w: c / (total + floor) for w, c in uni.items()}
    p1["<unk>"] = floor / (total + floor)
    p1["</s>"] = 0.04  # about one sentence end per 25 words
    s = sum(p1.values())
    p1 = {w: p / s for w, p in p1.items()}
    by_ctx: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for (v, w), c in bi.items():
        if v in uni and w in p1:
            by_ctx[v].append((w, c))
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    lines2: list[str] = []
    bows: dict[str, float] = {}
    for v, items in by_ctx.items():
        cv = max(uni[v], sum(c for _, c in items))
        kept = 0.0
        lower = 0.0
        for w, c in items:
            p = (c - discount) / cv + (discount * len(items) / cv) * p1[w]
            kept += p
            lower += p1[w]
            lines2.append(f"{math.log10(p):.6f}\t{v} {w}")
        # backoff weight so that the distribution sums to one
        bows[v] = max(1e-9, (1.0 - kept)) / max(1e-9, (1.0 - lower))
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write("\\data\\\n")
        fh.write(f"ngram 1={len(p1) + 1}\nngram 2={len(lines2)}\n\n\\1-grams:\n")
        fh.write("-99\t<s>\t0.000000\n")
        for w, p in p1.items():
            if w in bows:
                fh.write(f"{math.log10(p):.6f}\t{w}\t{math.log10(bows[w]):.6f}\n")
            else:
                fh.write(f"{math.log10(p):.6f}\t{w}\n")
        fh.write("\n\\2-grams:\n")
        fh.write("\n".join(lines2))
        fh.write("\n\n\\end\\\n")
    tmp.replace(out)
    return out


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """kenlm prints a progress bar on fd 2 while loading ARPA; keep CLIs clean."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        yield
        return
    saved = os.dup(fd)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), fd)
            yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


class NgramLM:
    """A loaded kenlm model plus the helpers the decoder needs.

    Scores are natural-log probabilities (kenlm speaks log10).
    """

    def __init__(self, path: str | Path) -> None:
        import kenlm

        p = Path(path)
        if not p.is_file():
            raise ResourceError(f"n-gram model {p} not found: build one with `unspin lm build`")
        self.path = p
        with _quiet_stderr():
            self._model: Any = kenlm.Model(str(p))
        self.order: int = int(self._model.order)
        self._state_cls: Any = kenlm.State
        self._unigram: dict[str, float] = {}

    def new_state(self, bos: bool = True) -> Any:
        st = self._state_cls()
        if bos:
            self._model.BeginSentenceWrite(st)
        else:
            self._model.NullContextWrite(st)
        return st

    def advance(self, state: Any, word: str) -> tuple[float, Any]:
        out = self._state_cls()
        lp = self._model.BaseScore(state, word, out)
        return lp * LOG10, out

    def window_logprob(self, state: Any, emitted: Sequence[str], following: Sequence[str],
                       eos: bool) -> float:
        """log P(``emitted`` then ``following`` [then ``</s>``] | ``state``).

        The decoder scores every candidate in such a window; this is the sum
        ``advance`` would give, word by word in the same order (so the same
        float), without a method call and a tuple per word.
        """
        score = self._model.BaseScore
        new_state = self._state_cls
        total = 0.0
        for w in (*emitted, *following):
            out = new_state()
            total += score(state, w, out) * LOG10
            state = out
        if eos:
            total += score(state, "</s>", new_state()) * LOG10
        return total

    def next_logprob(self, state: Any, word: str) -> float:
        """log P(``word`` | ``state``): ``advance`` without keeping the new state."""
        return float(self._model.BaseScore(state, word, self._state_cls())) * LOG10

    def sentence_logprob(self, words: list[str], eos: bool = True) -> float:
        return float(self._model.score(" ".join(words), bos=True, eos=eos)) * LOG10

    def token_logprobs(self, words: list[str]) -> list[float]:
        """Per-word natural-log probabilities in sentence context (plus </s>)."""
        return [s[0] * LOG10 for s in self._model.full_scores(" ".join(words), True, True)]

    def unigram_logprob(self, word: str) -> float:
        got = self._unigram.get(word)
        if got is None:
            got = float(self._model.score(word, bos=False, eos=False)) * LOG10
            if len(self._unigram) < 500_000:
                self._unigram[word] = got
        return got


@lru_cache(maxsize=4)
def load_ngram(path: str) -> NgramLM:
    """Per-process cache: a model is read once however many documents follow."""
    return NgramLM(path)
