"""Fit the span model and the document calibration; write them into the package.

    python bench/fit_model.py [--docs 150] [--kinds default,kn3]

Data: stories of the TRAIN split only (never dev/test), spun with simulator
profiles a, b and d (profile c is held out for the cross-profile benchmark),
plus the same number of clean stories. For each kind of language model
("default": the shipped web-count bigram model; "kn3": a Kneser-Ney trigram
built from the training split, standing in for a user's own archive) the core
decodes every story and records every decision the decoder made, flagged or
not; a decision is positive when it overlaps a gold substitution. A
logistic regression over the decision features is the span model; a
one-feature logistic regression over the documents' summed span evidence is
the calibration. The learned table used while fitting is harvested from a
disjoint sample of training stories, so the "learned" feature is not fitted
on its own training pairs.

Outputs (small, numbers only; no corpus text): src/unspin/data/span_model.json
and src/unspin/data/calibration.json, each with this command and the data hash.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import unspin
from unspin.core import analyze
from unspin.decode.spanmodel import FEATURES, fit_logistic
from unspin.evaluation.datasets import dataset_hash, load_split
from unspin.evaluation.harness import (
    ensure_learned_table,
    ensure_ngram,
    sample_docs,
    spin_docs,
)

DATA = Path(__file__).resolve().parents[1] / "src" / "unspin" / "data"
FIT_SEED = 23
LEARN_SEED = 11
TRAIN_PROFILES = ("a", "b", "d")


def overlaps(a: tuple[int, int], spans: tuple[tuple[int, int], ...]) -> bool:
    return any(a[0] < e and a[1] > s for s, e in spans)


def collect(config: unspin.Config, items: list[Any], clean: list[str]) -> tuple[
        list[dict[str, float]], list[int], list[tuple[float, int]]]:
    rows: list[dict[str, float]] = []
    labels: list[int] = []
    docs: list[tuple[float, int]] = []
    for it in items:
        got: list[Any] = []
        a = analyze(it.spun, config.merged(flag_threshold=0.01), collect=got)
        for start, end, _restored, feats in got:
            rows.append(feats)
            labels.append(int(overlaps((start, end), it.gold_spun)))
        docs.append((a.features["words"], 1))
    for text in clean:
        got = []
        a = analyze(text, config.merged(flag_threshold=0.01), collect=got)
        for _s, _e, _r, feats in got:
            rows.append(feats)
            labels.append(0)
        docs.append((a.features["words"], 0))
    return rows, labels, docs


def doc_evidence(config: unspin.Config, texts: list[str]) -> list[float]:
    out = []
    for t in texts:
        a = unspin.check(t, config=config)
        out.append(math.log1p(a.features["evidence_per_100w"]))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=150, help="stories per profile (and clean)")
    ap.add_argument("--kinds", default="default,kn3")
    args = ap.parse_args()
    t0 = time.time()
    train = load_split("train")
    learned_path = ensure_learned_table(TRAIN_PROFILES, seed=LEARN_SEED)
    learn_ids = {d.id for d in sample_docs(train, 400, LEARN_SEED)}
    fit_docs = sample_docs(train, args.docs, FIT_SEED, exclude=learn_ids)
    calib_docs = sample_docs(train, args.docs, FIT_SEED + 1,
                             exclude=learn_ids | {d.id for d in fit_docs})
    items = [it for p in TRAIN_PROFILES for it in spin_docs(fit_docs, p, FIT_SEED)]
    clean = [d.text for d in fit_docs]
    calib_items = [it for p in TRAIN_PROFILES for it in spin_docs(calib_docs, p, FIT_SEED + 1)]
    data_hash = dataset_hash(fit_docs + calib_docs)
    cmd = "python bench/fit_model.py " + " ".join(sys.argv[1:])
    span_out: dict[str, Any] = {"format": "unspin.span_model/1", "features": list(FEATURES),
                                "models": {}}
    calib_out: dict[str, Any] = {"format": "unspin.calibration/1", "models": {}}
    old_span = DATA / "span_model.json"
    if old_span.is_file():
        span_out["models"].update(json.loads(old_span.read_text())["models"])
    old_cal = DATA / "calibration.json"
    if old_cal.is_file():
        calib_out["models"].update(json.loads(old_cal.read_text()).get("models", {}))
    for kind in args.kinds.split(","):
        ngram = None if kind == "default" else str(ensure_ngram())
        config = unspin.Config(ngram_path=ngram, learned_tables=(str(learned_path),))
        # fit the span model with the untrained (noisy-channel only) decision layer
        from unspin.resources import bundle as bundle_mod

        bundle_mod._bundle.cache_clear()
        rows, labels, _ = collect(config, items, clean)
        prov = (f"{cmd}; {len(rows)} decisions ({sum(labels)} positive) from {len(fit_docs)} "
                f"train stories x profiles {','.join(TRAIN_PROFILES)} + clean; "
                f"data {data_hash}")
        model = fit_logistic(rows, labels, l2=1.0, provenance=prov)
        span_out["models"][kind] = model.to_json()
        (DATA / "span_model.json").write_text(json.dumps(span_out, indent=1, sort_keys=True))
        bundle_mod._bundle.cache_clear()
        # calibration on a disjoint sample, with the fitted span model in place
        spun_e = doc_evidence(config, [it.spun for it in calib_items])
        clean_e = doc_evidence(config, [d.text for d in calib_docs])
        xs = [{"e": e} for e in spun_e + clean_e]
        ys = [1] * len(spun_e) + [0] * len(clean_e)
        cal = fit_logistic(xs, ys, l2=0.1, names=("e",))
        b = cal.weights["e"] / cal.scales["e"]
        a = cal.bias - b * cal.means["e"]
        calib_out["models"][kind] = {
            "a": a, "b": b,
            "provenance": f"{cmd}; {len(spun_e)} spun + {len(clean_e)} clean train stories; "
                          f"data {data_hash}",
        }
        (DATA / "calibration.json").write_text(json.dumps(calib_out, indent=1, sort_keys=True))
        pos = sum(labels)
        print(f"{kind}: {len(rows)} decisions, {pos} positive; calibration a={a:.3f} b={b:.3f}"
              f"; {time.time() - t0:.0f}s", flush=True)
        for name in FEATURES:
            print(f"   {name:14s} {model.weights[name]:+.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
