"""Fit the accurate tier's candidate ranker; write it into the package.

    python bench/fit_ranker.py [--docs 60] [--kinds default,kn3]

Data: the DEV stories ``bench/fit_model.py`` fits on (same sample and seed),
spun with profiles a, b and d, each decoded by the accurate tier with and
without the learned table harvested from TRAIN stories (so the "learned"
feature has examples, and the product's default has its share). Every
decision whose span is exactly a gold substitution, and whose candidates
include the true original, is one observation of the conditional logit in
``unspin.decode.rerank``. Profile c stays out of the fit: the same stories
spun with it are decoded once more, and the share of those decisions whose
true original is ranked first is printed for the fixed sum and for the fitted
ranker (a held-out check, not a benchmark table).

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
from unspin.core import analyze
from unspin.decode.rerank import RANK_FEATURES, Ranker, fit_ranker, top1
from unspin.decode.rescore import RankingRow
from unspin.decode.spanmodel import model_key
from unspin.evaluation.datasets import dataset_hash, load_split
from unspin.evaluation.harness import (
    Labelled,
    ensure_learned_table,
    ensure_ngram,
    sample_docs,
    spin_docs,
)

HELD_OUT = "c"
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=60, help="stories per profile")
    ap.add_argument("--kinds", default="default,kn3")
    args = ap.parse_args()
    t0 = time.time()
    dev = load_split("dev")
    fit_docs = sample_docs(dev, args.docs, FIT_SEED)
    learned = ensure_learned_table(TRAIN_PROFILES, seed=LEARN_SEED)
    items = [it for p in TRAIN_PROFILES for it in spin_docs(fit_docs, p, FIT_SEED)]
    held = spin_docs(fit_docs, HELD_OUT, FIT_SEED)
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
        # the ranking features are computed before any ranker chooses, so the
        # shipped fit (if any) does not change the data
        groups = groups_of(config, items) + groups_of(bare, items)
        fixed = Ranker.fixed(bare.channel_weight)
        ranker = fit_ranker(groups, provenance=(
            f"{cmd}; {len(groups)} decisions on gold substitutions whose candidates hold the "
            f"original, in {len(items)} spun dev stories (profiles {','.join(TRAIN_PROFILES)}), "
            f"each decoded with and without a learned table; data {data_hash}"))
        out["models"][key] = ranker.to_json()
        path.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
        held_groups = groups_of(bare, held)
        print(f"{key}: {len(groups)} decisions; top-1 on them fixed {top1(fixed, groups):.3f} "
              f"fitted {top1(ranker, groups):.3f}; held-out profile {HELD_OUT} "
              f"({len(held_groups)}): fixed {top1(fixed, held_groups):.3f} "
              f"fitted {top1(ranker, held_groups):.3f}; {time.time() - t0:.0f}s", flush=True)
        for name in RANK_FEATURES:
            print(f"   {name:12s} {ranker.weights[name]:+.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
