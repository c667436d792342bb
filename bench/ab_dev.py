"""A quick DEV A/B of one restorer: the numbers a model change is judged on before TEST.

    python bench/ab_dev.py [--lm newsroom|default] [--tier neural|full|screen]
                           [--n 20] [--seed 11] [--clean 40] [--pps 60] [--json FILE]

Runs on the DEV split only (TEST is for BENCHMARKS.md): ``--n`` stories of
60-400 words spun with each simulator profile (a, b, c, d), span F1 and
restoration EM per profile; ``--clean`` further clean DEV stories, false edits per
1,000 words and document AUROC against the spun ones; the first ``--pps``
two-word rows of the PPS dev list, top-1 alone, top-1 in a carrier sentence and
top-5. About 4-5 minutes for the accurate tier on 2 cores, alone.

Run the two arms of an A/B one after the other, never at the same time: on two
cores two neural runs slow each other several-fold. The arms differ by the
working tree (a branch, a stash) or by the data files, never by this script.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from unspin.evaluation import harness as H
from unspin.evaluation.baselines import read_pps_csv
from unspin.evaluation.datasets import fingerprints_csv, load_split

PROFILES = ("a", "b", "c", "d")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lm", choices=("newsroom", "default"), default="newsroom")
    ap.add_argument("--tier", choices=("neural", "full", "screen"), default="neural")
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--clean", type=int, default=40)
    ap.add_argument("--pps", type=int, default=60)
    ap.add_argument("--json", help="also write the numbers here")
    args = ap.parse_args(argv)

    overrides: dict[str, object] = {"mode": "screen" if args.tier == "screen" else "full"}
    if args.tier == "neural":
        overrides["scorer"] = "neural"
    if args.lm == "newsroom":
        overrides["ngram_path"] = str(H.ensure_ngram())
    restorer = H.core_restorer(**overrides)
    restorer("Warm the models up on a short text.")

    t0 = time.perf_counter()
    dev = load_split("dev")
    stories = H.sample_docs(dev, args.n, args.seed, max_words=400)
    clean = H.sample_docs(dev, args.clean, args.seed + 1, max_words=400,
                          exclude={d.id for d in stories})
    out: dict[str, object] = {"args": vars(args)}
    spun_all: list[H.Labelled] = []
    cells: list[str] = []  # the markdown row's profile cells
    for profile in PROFILES:
        items = H.spin_docs(stories, profile, args.seed)
        spun_all.extend(items[: max(1, args.clean // len(PROFILES))])
        res = H.evaluate_restoration(restorer, items)
        out[profile] = {"span_f1": res.span.f1, "span_p": res.span.precision,
                        "span_r": res.span.recall, "em": res.restoration_exact}
        print(f"profile {profile}: span P {res.span.precision:.3f} R {res.span.recall:.3f} "
              f"F1 {res.span.f1:.3f}  EM {res.restoration_exact:.3f}", flush=True)
        cells.append(f"{res.span.f1:.3f} / {res.restoration_exact:.3f}")
    det = H.evaluate_detection(restorer, spun_all, clean)
    out["false_edits_per_1000"] = det.false_edits_per_1000
    out["auroc"] = det.auroc
    print(f"clean: {len(clean)} stories, false edits/1k {det.false_edits_per_1000:.2f}; "
          f"AUROC {det.auroc:.3f} ({len(spun_all)} spun)", flush=True)
    rows = [r for r in read_pps_csv(fingerprints_csv()) if len(r.tortured.split()) == 2]
    fp = H.evaluate_fingerprints(restorer, rows[: args.pps])
    out["pps"] = {"top1": fp.top1, "top1_carrier": fp.top1_carrier, "top5": fp.top5}
    print(f"PPS ({fp.n} two-word rows): top-1 {fp.top1:.3f} carrier {fp.top1_carrier:.3f} "
          f"top-5 {fp.top5:.3f}", flush=True)
    seconds = out["seconds"] = time.perf_counter() - t0
    print(f"\n| {' | '.join(cells)} | {det.false_edits_per_1000:.2f} | {det.auroc:.3f} | "
          f"{fp.top1:.3f} / {fp.top1_carrier:.3f} / {fp.top5:.3f} |  ({seconds:.0f} s)")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(out, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
