"""Trace benchmark: retrieval, false matches, speed and learning from traced pairs.

Usage::

    python bench/trace_bench.py [--per-profile 100] [--held-out 1000]
                                [--learn-profile c] [--learn-train 300] [--learn-test 40]
                                [--skip-learning] [--keep-index] [--out FILE.json]

What it does (all in one run, so the methods are comparable):

* indexes every Reuters-21578 and BBC story except ``--held-out`` DEV-split
  stories, plus the originals of the three real pairs; times the build
  (all cores) and measures the index on disk;
* queries with spun copies of TEST-split stories (``unspin.simulate.spin``,
  profiles a-d, ``--per-profile`` each) and with the real spun pairs;
  reports recall@1, recall@10 and MRR for the trace index, for plain MinHash
  (datasketch, 128 permutations, word 3-shingles of the raw spun text,
  ranked by estimated Jaccard over *all* documents: an upper bound on what
  LSH banding could return) and for BM25 (k1 = 1.2, b = 0.75) over raw words;
* calibration: half of the held-out clean stories (NOT in the index) give
  each method's score distribution for unrelated text; the false-match rate
  is measured on the other half at the threshold (the trace index uses the
  default stored in the index; the baselines use the 99th percentile of
  their calibration scores);
* query latency (median, p99) at 2k, 5k and the full index size;
* learning: spins ``--learn-train`` TRAIN stories with one profile, traces
  them, learns a table with ``unspin.trace.learn_from_trace`` and measures
  restoration exact match on ``--learn-test`` TEST stories of that profile
  with ``unspin.check`` before and after adding the table.

Reuters-21578 contains exact duplicate stories (same text, two ids). A
retrieved document whose text is identical to the query's source counts as
the source; the number of queries this affects is printed.
"""

from __future__ import annotations

import argparse
import difflib
import json
import math
import os
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from unspin.evaluation.datasets import Doc, load_corpus, load_real_pairs, load_split
from unspin.evaluation.harness import (
    core_restorer,
    ensure_ngram,
    evaluate_restoration,
    sample_docs,
    spin_docs,
)
from unspin.text.tokenize import words
from unspin.trace import Index, SourceRecord, build_index, index_info, learn_from_trace, trace

SEED = 20240917
COPY_CONTAINMENT = 0.8
#: a held-out story sharing this share of its words, in order, with the match is
#: a re-filed/edited version of the same story (Reuters re-issues stories)
SAME_STORY = 0.6
PROFILES = ("a", "b", "c", "d")


@dataclass
class Query:
    text: str
    source: str  # id of the true source
    group: str  # profile name or "real"


# ------------------------------------------------------------------ baselines


class MinHashBaseline:
    """datasketch MinHash over word 3-shingles, brute-force estimated Jaccard."""

    name = "plain MinHash (raw text)"

    def __init__(self, docs: Sequence[tuple[str, str]], num_perm: int = 128) -> None:
        from datasketch import MinHash

        self._MinHash = MinHash
        self.num_perm = num_perm
        self.ids = [d for d, _ in docs]
        sigs = [self._sig(t) for _, t in docs]
        self.matrix = np.vstack(sigs)

    @staticmethod
    def _shingles(text: str) -> list[bytes]:
        w = [x for x in words(text) if x[:1].isalnum()]
        return [" ".join(w[i : i + 3]).encode() for i in range(max(1, len(w) - 2))]

    def _sig(self, text: str) -> np.ndarray:
        m = self._MinHash(num_perm=self.num_perm, seed=1)
        m.update_batch(self._shingles(text))
        return np.asarray(m.hashvalues, dtype=np.uint64)

    def search(self, text: str, k: int) -> list[tuple[str, float]]:
        est = (self.matrix == self._sig(text)[None, :]).mean(axis=1)
        top = np.argsort(-est, kind="stable")[:k]
        return [(self.ids[i], float(est[i])) for i in top]


class BM25Baseline:
    """Okapi BM25 over lower-cased word tokens of the raw text."""

    name = "BM25 (raw text)"

    def __init__(self, docs: Sequence[tuple[str, str]], k1: float = 1.2, b: float = 0.75) -> None:
        self.ids = [d for d, _ in docs]
        self.k1, self.b = k1, b
        post: dict[str, list[tuple[int, int]]] = defaultdict(list)
        lengths = np.zeros(len(docs))
        for i, (_, text) in enumerate(docs):
            toks = [x for x in words(text) if x[:1].isalnum()]
            lengths[i] = len(toks)
            counts: dict[str, int] = {}
            for t in toks:
                counts[t] = counts.get(t, 0) + 1
            for t, c in counts.items():
                post[t].append((i, c))
        self.avgdl = float(lengths.mean())
        self.lengths = lengths
        n = len(docs)
        self.post = {t: (np.array([p[0] for p in ps]), np.array([p[1] for p in ps], dtype=float),
                         math.log(1 + (n - len(ps) + 0.5) / (len(ps) + 0.5)))
                     for t, ps in post.items()}

    def search(self, text: str, k: int) -> list[tuple[str, float]]:
        scores = np.zeros(len(self.ids))
        norm = self.k1 * (1 - self.b + self.b * self.lengths / self.avgdl)
        for t in {x for x in words(text) if x[:1].isalnum()}:
            got = self.post.get(t)
            if got is None:
                continue
            idx, tf, idf = got
            scores[idx] += idf * tf * (self.k1 + 1) / (tf + norm[idx])
        top = np.argsort(-scores, kind="stable")[:k]
        return [(self.ids[i], float(scores[i])) for i in top]


# --------------------------------------------------------------------- metrics


def rank_of(ranked: Sequence[str], source: str, same_text: Callable[[str, str], bool]) -> int:
    for r, doc_id in enumerate(ranked, start=1):
        if doc_id == source or same_text(doc_id, source):
            return r
    return 0


def retrieval_row(ranks: Sequence[int]) -> tuple[float, float, float]:
    n = max(1, len(ranks))
    r1 = sum(1 for r in ranks if r == 1) / n
    r10 = sum(1 for r in ranks if 1 <= r <= 10) / n
    mrr = sum(1.0 / r for r in ranks if r) / n
    return r1, r10, mrr


def containment(story: str, doc: str) -> float:
    """Share of ``story``'s words that appear, in order, in ``doc``."""
    a = [x for x in words(story) if x[:1].isalnum()]
    b = [x for x in words(doc) if x[:1].isalnum()]
    if not a or not b:
        return 0.0
    sm = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    return sum(m.size for m in sm.get_matching_blocks()) / len(a)


def pct(xs: Sequence[float], q: float) -> float:
    return float(np.quantile(np.asarray(xs), q)) if xs else float("nan")


# ------------------------------------------------------------------------ main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--per-profile", type=int, default=100)
    ap.add_argument("--held-out", type=int, default=1000)
    ap.add_argument("--learn-profile", default="c", choices=PROFILES)
    ap.add_argument("--learn-train", type=int, default=300)
    ap.add_argument("--learn-test", type=int, default=40)
    ap.add_argument("--skip-learning", action="store_true")
    ap.add_argument("--processes", type=int, default=None)
    ap.add_argument("--out", default=None, help="also write the results as JSON here")
    ap.add_argument("--keep-index", action="store_true",
                    help="keep the temporary indexes (default: delete them at the end)")
    args = ap.parse_args()
    command = "python bench/trace_bench.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    t_start = time.perf_counter()
    results: dict[str, Any] = {"command": command.strip()}
    print(f"# Trace benchmark\n\n`{command.strip()}`  (cores: {os.cpu_count()})\n")

    # ---- data
    all_docs = load_corpus("reuters") + load_corpus("bbc")
    held = sample_docs(load_split("dev"), args.held_out, SEED, min_words=60, max_words=700)
    held_ids = {d.id for d in held}
    calib, evalset = held[: len(held) // 2], held[len(held) // 2 :]
    reals = load_real_pairs()
    index_docs: list[Doc] = [d for d in all_docs if d.id not in held_ids]
    index_docs += [Doc(f"real-{p.id}", "", p.original_text, "real") for p in reals]
    text_of = {d.id: d.text for d in index_docs}

    def same_text(a: str, b: str) -> bool:
        return a in text_of and text_of.get(a) == text_of.get(b)

    test = load_split("test")
    queries: list[Query] = []
    for k, p in enumerate(PROFILES):
        picked = sample_docs(test, args.per_profile, SEED + k, min_words=60, max_words=700)
        queries += [Query(it.spun, it.id, p) for it in spin_docs(picked, p, SEED)]
    queries += [Query(p.spun_text, f"real-{p.id}", "real") for p in reals]
    text_counts = Counter(text_of.values())
    dup_sources = sum(1 for q in queries if text_counts[text_of[q.source]] > 1)

    # ---- build
    tmp = Path(tempfile.mkdtemp(prefix="unspin-trace-bench-"))
    recs = [SourceRecord(d.id, d.text, d.title) for d in index_docs]
    rep = build_index(tmp / "full", recs, processes=args.processes)
    info = index_info(tmp / "full")
    small = build_index(tmp / "single", recs[:2000], processes=1)
    print("## Index build\n")
    print("Per-core rates divide by CPU seconds (writer + workers), which stays meaningful on "
          "a shared machine; wall time is what this run took.\n")
    print("| documents | processes | wall s | docs/s per core (pool) | docs/s, 1 process "
          "(2,000 docs) | size on disk | bytes/doc | postings |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| {rep.added:,} | {rep.processes} | {rep.seconds:.1f} | "
          f"{rep.docs_per_second_per_core:.0f} | {small.docs_per_second_per_core:.0f} | "
          f"{info['bytes_on_disk'] / 1e6:.1f} MB | {info['bytes_on_disk'] / rep.added:.0f} | "
          f"{info['postings']:,} |\n")
    results["build"] = {"docs": rep.added, "seconds": rep.seconds, "processes": rep.processes,
                        "docs_per_s_per_core": rep.docs_per_second_per_core,
                        "docs_per_s_single_cpu": small.docs_per_second_per_core,
                        "bytes": info["bytes_on_disk"], "params": info["params"]}

    t0 = time.perf_counter()
    corpus = [(d.id, d.text) for d in index_docs]
    minhash = MinHashBaseline(corpus)
    t_mh = time.perf_counter() - t0
    t0 = time.perf_counter()
    bm25 = BM25Baseline(corpus)
    t_bm = time.perf_counter() - t0

    # ---- retrieval
    index = Index(tmp / "full")
    methods: dict[str, Callable[[str], list[tuple[str, float]]]] = {
        "trace index (this)": lambda t: [(m.id, m.score) for m in trace(t, index, top=10)
                                         .candidates],
        minhash.name: lambda t: minhash.search(t, 10),
        bm25.name: lambda t: bm25.search(t, 10),
    }
    ranks: dict[str, dict[str, list[int]]] = {m: defaultdict(list) for m in methods}
    top_scores: dict[str, list[tuple[str, float, int]]] = {m: [] for m in methods}
    latency: dict[str, list[float]] = {m: [] for m in methods}
    for q in queries:
        for name, fn in methods.items():
            t0 = time.perf_counter()
            got = fn(q.text)
            latency[name].append(time.perf_counter() - t0)
            r = rank_of([g[0] for g in got], q.source, same_text)
            ranks[name][q.group].append(r)
            top_scores[name].append((q.group, got[0][1] if got else 0.0, r))
    # calibration + false matches
    clean_scores: dict[str, dict[str, list[tuple[float, str, str]]]] = {m: {} for m in methods}
    for part, docs in (("calib", calib), ("eval", evalset)):
        for name, fn in methods.items():
            out = []
            for d in docs:
                got = fn(d.text)
                out.append((got[0][1] if got else 0.0, got[0][0] if got else "", d.id))
            clean_scores[name][part] = out
    held_by_id = {d.id: d for d in held}

    def is_copy(story_id: str, match_id: str) -> bool:
        return bool(match_id) and containment(held_by_id[story_id].text,
                                              text_of.get(match_id, "")) >= COPY_CONTAINMENT

    # baselines: 99th percentile of the calibration stories that are not copies
    thresholds = {name: pct([s for s, m, q in clean_scores[name]["calib"]
                             if not is_copy(q, m)], 0.99) for name in methods}
    thresholds["trace index (this)"] = index.params.threshold
    print(f"## Retrieval (index: {len(index):,} documents; {len(queries)} queries; "
          f"{dup_sources} queries have a source with an exact-duplicate text in the index)\n")
    print("| method | queries | recall@1 | recall@10 | MRR | found above threshold |")
    print("|---|---|---|---|---|---|")
    results["retrieval"] = []
    for name in methods:
        groups = [*PROFILES, "real"]
        for g in groups:
            rr = ranks[name][g]
            r1, r10, mrr = retrieval_row(rr)
            found = [1 for grp, s, r in top_scores[name] if grp == g and r == 1
                     and s >= thresholds[name]]
            fr = len(found) / max(1, len(rr))
            label = f"profile {g}" if g != "real" else "real pairs"
            print(f"| {name} | {label} ({len(rr)}) | {r1:.3f} | {r10:.3f} | {mrr:.3f} | "
                  f"{fr:.3f} |")
            results["retrieval"].append({"method": name, "group": g, "n": len(rr),
                                         "recall1": r1, "recall10": r10, "mrr": mrr,
                                         "found_at_threshold": fr})
    print()
    print("## False matches: unrelated clean stories NOT in the index\n")
    print(f"Calibration: {len(calib)} held-out DEV stories; evaluation: {len(evalset)} others. "
          "Reuters repeats stories under new ids, so some held-out stories are copies of "
          f"indexed ones: a *copy* is a match containing >= {COPY_CONTAINMENT:.0%} of the "
          "story's words in order (difflib blocks over words); tracing a copy to it is "
          "correct, so copies are shown apart; matches sharing 60-80 % are edited re-filings of "
          "the same story, also shown apart. Trace index threshold: the default stored in "
          "the index; baselines: p99 of their non-copy calibration scores.\n")
    print("| method | threshold | calib max (non-copy) | calib p99 (non-copy) | matches (eval) | "
          "of which copies | false-match rate (non-copies) | of those, same story "
          f"(containment >= {SAME_STORY:.0%}) | false-match rate (different story) |")
    print("|---|---|---|---|---|---|---|---|---|")
    results["false_matches"] = []
    for name in methods:
        thr = thresholds[name]
        cal = [s for s, m, q in clean_scores[name]["calib"] if not is_copy(q, m)]
        hits = [(s, m, q) for s, m, q in clean_scores[name]["eval"] if s >= thr]
        copies = sum(1 for _, m, q in hits if is_copy(q, m))
        same = sum(1 for _, m, q in hits if not is_copy(q, m) and containment(
            held_by_id[q].text, text_of.get(m, "")) >= SAME_STORY)
        n = max(1, len(evalset))
        print(f"| {name} | {thr:.3f} | {max(cal):.3f} | {pct(cal, 0.99):.3f} | "
              f"{len(hits) / n:.1%} | {copies} | {(len(hits) - copies) / n:.1%} | {same} | "
              f"{(len(hits) - copies - same) / n:.1%} |")
        results["false_matches"].append({"method": name, "threshold": thr,
                                         "calib_max": max(cal), "matches": len(hits) / n,
                                         "copies": copies, "same_story": same,
                                         "false_match_rate": (len(hits) - copies) / n})
    print()

    # ---- latency at several sizes
    print("## Query latency (single process, wall clock)\n")
    print("| method | documents | median ms | p99 ms |")
    print("|---|---|---|---|")
    lat_queries = [q for q in queries if q.group != "real"][:: max(1, len(queries) // 200)]
    srcs = {q.source for q in lat_queries}
    others = [r for r in recs if r.id not in srcs]
    results["latency"] = []
    for size in (2000, 5000):
        sub = [r for r in recs if r.id in srcs] + others[: size - len(srcs)]
        build_index(tmp / f"n{size}", sub, processes=args.processes)
        sub_index = Index(tmp / f"n{size}")
        lats = []
        for q in lat_queries:
            t0 = time.perf_counter()
            trace(q.text, sub_index, top=10)
            lats.append(time.perf_counter() - t0)
        print(f"| trace index | {len(sub_index):,} | {1000 * statistics.median(lats):.1f} | "
              f"{1000 * pct(lats, 0.99):.1f} |")
        results["latency"].append({"docs": len(sub_index), "median": statistics.median(lats),
                                   "p99": pct(lats, 0.99)})
        sub_index.close()
    for name in methods:
        lats = latency[name]
        print(f"| {name} | {len(index):,} | {1000 * statistics.median(lats):.1f} | "
              f"{1000 * pct(lats, 0.99):.1f} |")
        results["latency"].append({"method": name, "docs": len(index),
                                   "median": statistics.median(lats), "p99": pct(lats, 0.99)})
    print(f"\nBaseline build times (in-memory, 1 process): MinHash {t_mh:.1f} s, "
          f"BM25 {t_bm:.1f} s.\n")

    # ---- learning
    if not args.skip_learning:
        p = args.learn_profile
        train_docs = sample_docs(load_split("train"), args.learn_train, SEED + 99)
        train_items = spin_docs(train_docs, p, SEED + 99)
        t0 = time.perf_counter()
        table_path = tmp / f"learned-trace-{p}.tsv"
        review_path = tmp / f"review-{p}.csv"
        learning = learn_from_trace([it.spun for it in train_items], index, out=table_path,
                                    review=review_path,
                                    source=f"trace bench: {len(train_items)} TRAIN stories, "
                                           f"profile {p}")
        t_learn = time.perf_counter() - t0
        test_docs = sample_docs(test, args.learn_test, SEED + 7, min_words=60, max_words=250)
        test_items = spin_docs(test_docs, p, SEED + 7)
        ngram = str(ensure_ngram())
        before = evaluate_restoration(core_restorer(ngram_path=ngram), test_items)
        after = evaluate_restoration(
            core_restorer(ngram_path=ngram, learned_tables=(str(table_path),)), test_items)
        print(f"## Learning from traced pairs (profile {p})\n")
        print(f"Traced {learning.traced} of {learning.texts} spun TRAIN stories in "
              f"{t_learn:.1f} s; learned {len(learning.table.pairs)} substitution pairs "
              f"(review queue: {review_path.name}). Restoration on {len(test_items)} held-out "
              f"TEST stories of profile {p}, `unspin.check(text, ngram_path=<train n-gram>"
              f"[, learned_tables=(table,)])`:\n")
        print("| restorer | restoration exact | 95% CI | substitutions exact | "
              "false-change rate | span F1 | seconds |")
        print("|---|---|---|---|---|---|---|")
        for label, res in (("before (no traced table)", before),
                           ("after (+ table learned from traces)", after)):
            print(f"| {label} | {res.restoration_exact:.3f} | "
                  f"{res.restoration_ci[0]:.3f}-{res.restoration_ci[1]:.3f} | "
                  f"{res.subs_exact:.3f} | {res.false_change_rate:.4f} | {res.span.f1:.3f} | "
                  f"{res.seconds:.1f} |")
        results["learning"] = {"profile": p, "traced": learning.traced,
                               "texts": learning.texts, "pairs": len(learning.table.pairs),
                               "before": before.restoration_exact,
                               "after": after.restoration_exact}
        print()
    index.close()
    total = time.perf_counter() - t_start
    if args.keep_index:
        print(f"Total wall time: {total:.0f} s. Index files kept in {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
        print(f"Total wall time: {total:.0f} s.")
    results["seconds"] = total
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
