"""Fit the accurate tier's candidate ranker; write it into the package.

    python bench/fit_ranker.py [--docs 60] [--kinds default,kn3] [--data news|pps]
                               [--free NAME,NAME]

``--data news`` (the default): the DEV stories ``bench/fit_model.py`` fits on
(same sample and seed), spun with profiles a, b and d, each decoded by the
accurate tier with and without the learned table harvested from TRAIN stories
(so the "learned" feature has examples, and the product's default has its
share). Every decision whose span is exactly a gold substitution, and whose
candidates include the true original, is one observation of the conditional
logit in ``unspin.decode.rerank``.

``--data pps``: real spinner output instead. Each tortured phrase of the PPS
DEV list is analysed alone, from row ``PPS_FIT_START`` on (the fingerprint
bench reads the rows before it, the quality gate the first 150), leaving out
the rows the papers bench draws; a decision on one of its words whose
candidates hold the expected word is an observation. The simulator picks its
synonyms blind to meaning, so only real output can say how much a spinner's
choice follows closeness in meaning (the ``similarity`` feature).

``--free`` fits only the named weights on top of the fixed sum (all weights
when omitted; see ``rerank.fit_ranker``). Either way, the share of decisions
whose true original is ranked first is printed for the fixed sum and for the
fit: on the fitting decisions, on the same DEV stories spun with the held-out
profile c, and on the other data (a held-out check, not a benchmark table).

Output (numbers only, no corpus text): ``src/unspin/data/ranker.json`` with
this command and the data hash in each model's provenance.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from typing import Any

import unspin
from fit_model import DATA, FIT_SEED, LEARN_SEED, TRAIN_PROFILES
from run import SEED as BENCH_SEED
from unspin.core import analyze
from unspin.decode.rerank import RANK_FEATURES, Ranker, fit_ranker, top1
from unspin.decode.rescore import RankingRow
from unspin.decode.spanmodel import model_key
from unspin.evaluation.baselines import FingerprintRow, read_pps_csv
from unspin.evaluation.datasets import dataset_hash, fingerprints_csv, load_split
from unspin.evaluation.harness import (
    Labelled,
    ensure_learned_table,
    ensure_ngram,
    paper_paragraphs,
    sample_docs,
    spin_docs,
)

HELD_OUT = "c"
#: The fingerprint bench reads the PPS rows before this one (bench/run.py, n_fp).
PPS_FIT_START = 400
#: The papers bench's draw (bench/run.py: n_papers, five phrases each, its seed).
BENCH_PAPERS = 80
Group = tuple[list[tuple[float, ...]], int]


def groups_of(config: unspin.Config, items: Sequence[Labelled]) -> list[Group]:
    """Ranking observations: decisions on a gold span whose candidates hold the original."""
    out: list[Group] = []
    for it in items:
        rows: list[RankingRow] = []
        analyze(it.spun, config, ranking=rows)
        truth = {s: it.original[o[0]:o[1]].lower()
                 for s, o in zip(it.gold_spun, it.gold_orig, strict=True)}
        for r in rows:
            want = truth.get((r.start, r.end))
            if want is not None and want in r.texts and len(r.texts) > 1:
                out.append((list(r.features), r.texts.index(want)))
    return out


def pps_fit_rows() -> list[FingerprintRow]:
    """PPS rows no bench table or gate reads (see the module docstring)."""
    usable = read_pps_csv(fingerprints_csv())
    drawn = {row.tortured for _, _, where in paper_paragraphs(usable, BENCH_PAPERS,
                                                               seed=BENCH_SEED)
             for *_, row in where}
    return [r for r in usable[PPS_FIT_START:] if r.tortured not in drawn]


def pps_groups(config: unspin.Config, rows: Sequence[FingerprintRow]) -> list[Group]:
    """Ranking observations on tortured phrases with as many words as their
    expected phrase: the decision on a changed word, gold word by word."""
    out: list[Group] = []
    for r in rows:
        spun, want = r.tortured.split(), r.expected[0].split()
        if len(spun) != len(want):
            continue
        where, pos = {}, 0
        for k, w in enumerate(spun):
            start = r.tortured.index(w, pos)
            pos = start + len(w)
            if w.lower() != want[k].lower():
                where[(start, pos)] = want[k].lower()
        ranking: list[RankingRow] = []
        analyze(r.tortured, config, ranking=ranking)
        for row in ranking:
            gold = where.get((row.start, row.end))
            if gold is not None and gold in row.texts and len(row.texts) > 1:
                out.append((list(row.features), row.texts.index(gold)))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=60, help="stories per profile")
    ap.add_argument("--kinds", default="default,kn3")
    ap.add_argument("--data", choices=("news", "pps"), default="news")
    ap.add_argument("--free", help="comma-separated weights to fit on top of the fixed sum")
    args = ap.parse_args()
    free = args.free.split(",") if args.free else None
    unknown = [n for n in free or () if n not in RANK_FEATURES]
    if unknown:
        ap.error(f"unknown features {unknown}; choose from {', '.join(RANK_FEATURES)}")
    t0 = time.time()
    dev = load_split("dev")
    fit_docs = sample_docs(dev, args.docs, FIT_SEED)
    learned = ensure_learned_table(TRAIN_PROFILES, seed=LEARN_SEED)
    items = [it for p in TRAIN_PROFILES for it in spin_docs(fit_docs, p, FIT_SEED)]
    held = spin_docs(fit_docs, HELD_OUT, FIT_SEED)
    pps_rows = pps_fit_rows()
    data_hash = dataset_hash(fit_docs)
    cmd = "python bench/fit_ranker.py " + " ".join(sys.argv[1:])
    path = DATA / "ranker.json"
    out: dict[str, Any] = {"format": "unspin.ranker/1", "features": list(RANK_FEATURES),
                           "models": {}}
    if path.is_file():
        out["models"].update(json.loads(path.read_text())["models"])
    for kind in args.kinds.split(","):
        key = model_key(kind, "neural")
        ngram = None if kind == "default" else str(ensure_ngram())
        bare = unspin.Config(ngram_path=ngram, mode="full", scorer="neural")
        config = bare.merged(learned_tables=(str(learned),))
        fixed = Ranker.fixed(bare.channel_weight)
        # the ranking features are computed before any ranker chooses, so the
        # shipped fit (if any) does not change the data
        news = groups_of(config, items) + groups_of(bare, items)
        pps = pps_groups(bare, pps_rows)
        if args.data == "news":
            groups, what = news, (
                f"{len(news)} decisions on gold substitutions whose candidates hold the "
                f"original, in {len(items)} spun dev stories (profiles "
                f"{','.join(TRAIN_PROFILES)}), each decoded with and without a learned "
                f"table; data {data_hash}")
        else:
            groups, what = pps, (
                f"{len(pps)} decisions on changed words of {len(pps_rows)} PPS DEV rows "
                f"(from row {PPS_FIT_START}, without the papers bench's draw) whose "
                "candidates hold the expected word")
        ranker = fit_ranker(groups, base=fixed if free else None, free=free,
                            provenance=f"{cmd}; {what}")
        out["models"][key] = ranker.to_json()
        path.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
        held_groups = groups_of(bare, held)
        print(f"{key}: fitted on {len(groups)} {args.data} decisions; top-1 fixed -> fitted: "
              f"news {top1(fixed, news):.3f} -> {top1(ranker, news):.3f} ({len(news)}), "
              f"held-out profile {HELD_OUT} {top1(fixed, held_groups):.3f} -> "
              f"{top1(ranker, held_groups):.3f} ({len(held_groups)}), PPS rows "
              f"{top1(fixed, pps):.3f} -> {top1(ranker, pps):.3f} ({len(pps)}); "
              f"{time.time() - t0:.0f}s", flush=True)
        for name in RANK_FEATURES:
            print(f"   {name:13s} {ranker.weights.get(name, 0.0):+.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
