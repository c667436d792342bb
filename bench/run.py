"""Full benchmark: every restorer side by side, printed as markdown tables.

    python bench/run.py [--quick] [--section NAME[,NAME]] [--system NAME ...] [--out FILE]

Sections: candidates, funnel, detection, restoration, cross, real, fingerprints, papers, speed,
scaling.
Each table is preceded by the exact command that reproduces it. Sample sizes
are printed; the full run is sized for about 30 minutes on 2 cores (the core
in full mode dominates). Derived data (the TRAIN-split n-gram model, learned
tables) is built once into ``$UNSPIN_BENCH_CACHE`` (default
``~/.cache/unspin/bench``), never inside the repository.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from importlib import resources
from typing import Any

from unspin.evaluation import harness as H
from unspin.evaluation import metrics as M
from unspin.evaluation.baselines import ListMatcher, RarityHeuristic, identity, read_pps_csv
from unspin.evaluation.datasets import fingerprints_csv, load_real_pairs, load_split
from unspin.types import Analysis

SECTIONS = ("candidates", "funnel", "detection", "restoration", "cross", "real",
            "fingerprints", "papers", "speed", "scaling")
#: The accurate tier: full mode re-ranked by one pass of the neural LM.
NEURAL = "unspin full + neural"
NEURAL_DEFAULT = "unspin full + neural, default LM"
FULL_DEFAULT = "unspin full, default LM"
#: The accurate tier with the neural pass in float32 everywhere, whatever the CPU
#: (the other neural rows run at Config.neural_precision "auto").
NEURAL_F32 = "unspin full + neural, float32"
SEED = 7
#: Sections whose rows ``--system`` selects.
SYSTEM_SECTIONS = ("funnel", "detection", "restoration", "real", "fingerprints", "papers")
#: The systems the funnel can follow: the core restorers, by their config overrides.
FUNNEL_SYSTEMS = ("unspin full", NEURAL, FULL_DEFAULT, NEURAL_DEFAULT)


def _paper_row(name: str, r: H.PaperResult) -> list[str]:
    return [name, f"{r.exact:.3f}", f"{r.touched:.3f}", f"{r.carrier_false_per_1000:.1f}",
            f"{r.clean_false_per_1000:.1f}", f"{r.auroc:.3f}", f"{r.spun_tortured:.2f}",
            f"{r.spun_clean:.2f}"]


def _time_stories(job: tuple[str, str, list[str]]) -> tuple[float, float, float]:
    """Seconds per story, first pass and second, and peak RSS in MB, for one system.

    Run in a fresh process (see the speed section): the first pass then starts
    with empty per-process caches, as a new worker does, and no other system's
    run has warmed them. The models are loaded on a short text outside the sample
    before the clock starts.
    """
    name, ngram, stories = job
    restorer = restorers(ngram)[name]
    restorer("The council met on Monday to discuss the budget.")
    passes = []
    for _ in range(2):
        t = time.perf_counter()
        for s in stories:
            restorer(s)
        passes.append((time.perf_counter() - t) / len(stories))
    return passes[0], passes[1], _own_peak_mb()


def _own_peak_mb() -> float:
    """This process's own peak RSS in MB.

    ``ru_maxrss`` survives exec, so a process spawned by a bench that has
    already run other sections reports the parent's peak (4,469 MB for every
    system in one such run); ``VmHWM`` belongs to the new process's memory.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _ci(ci: tuple[float, float]) -> str:
    return f"[{ci[0]:.3f}, {ci[1]:.3f}]"


class Report:
    def __init__(self, quick: bool, systems: list[str] | None = None) -> None:
        self.quick = quick
        self.systems = systems
        self.lines: list[str] = []

    def table(self, section: str, title: str, header: list[str], rows: list[list[str]]) -> None:
        cmd = f"python bench/run.py{' --quick' if self.quick else ''} --section {section}"
        if self.systems and section in SYSTEM_SECTIONS:
            cmd += "".join(f" --system '{name}'" for name in self.systems)
        out = [f"### {title}", "", "```", cmd, "```", ""]
        out.append("| " + " | ".join(header) + " |")
        out.append("|" + "|".join("---" for _ in header) + "|")
        out.extend("| " + " | ".join(r) + " |" for r in rows)
        out.append("")
        self.emit("\n".join(out))

    def emit(self, text: str) -> None:
        print(text, flush=True)
        self.lines.append(text)


def restorers(ngram: str | None) -> dict[str, Callable[[str], Analysis]]:
    rows = read_pps_csv(fingerprints_csv())
    return {
        "unspin full": H.core_restorer(mode="full", ngram_path=ngram),
        NEURAL: H.core_restorer(mode="full", ngram_path=ngram, scorer="neural"),
        NEURAL_F32: H.core_restorer(mode="full", ngram_path=ngram, scorer="neural",
                                    neural_precision="float32"),
        "unspin full, favor recall": H.core_restorer(mode="full", ngram_path=ngram,
                                                     favor_recall=True),
        "unspin screen": H.core_restorer(mode="screen", ngram_path=ngram),
        FULL_DEFAULT: H.core_restorer(mode="full"),
        # what a user gets with nothing but the installed packages
        NEURAL_DEFAULT: H.core_restorer(mode="full", scorer="neural"),
        "list matcher (PPS)": ListMatcher(rows),
        "rarity heuristic": RarityHeuristic(),
        "identity": identity,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--section", help=f"comma-separated, of {', '.join(SECTIONS)}")
    ap.add_argument("--system", action="append", dest="systems", metavar="NAME",
                    help="repeatable: only these rows in the detection, restoration, real, "
                    "fingerprints and papers tables (to re-measure the rows a change "
                    "touches; the speed table keeps its own systems)")
    ap.add_argument("--out")
    args = ap.parse_args(argv)
    rep = Report(args.quick, args.systems)
    todo = args.section.split(",") if args.section else list(SECTIONS)
    if unknown := [t for t in todo if t not in SECTIONS]:
        ap.error(f"unknown section {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    per_profile = 8 if args.quick else 50
    n_clean = 16 if args.quick else 100
    n_fp = 60 if args.quick else 400
    n_papers = 12 if args.quick else 80
    started = time.perf_counter()

    t0 = time.perf_counter()
    ngram = str(H.ensure_ngram())
    rep.emit(f"<!-- n-gram model from the TRAIN split: {ngram} "
             f"(ready in {time.perf_counter() - t0:.0f} s) -->")
    rs = restorers(ngram)
    # the float32 accurate tier is a speed baseline; in the quality tables only on request
    chosen = {n: r for n, r in rs.items() if n != NEURAL_F32}
    if args.systems:
        names = args.systems
        if unknown := [n for n in names if n not in rs]:
            ap.error(f"unknown system {', '.join(unknown)}; choose from {', '.join(rs)}")
        chosen = {n: rs[n] for n in names}
    test = load_split("test")
    rep.emit(f"Samples: {per_profile} test docs per profile (60-400 words), {n_clean} clean "
             f"test docs, {n_fp} fingerprint rows, 3 real pairs; seed {SEED}.\n")
    spun: dict[str, list[H.Labelled]] = {}
    used: set[str] = set()
    for k, p in enumerate(H.PROFILE_NAMES):
        docs = H.sample_docs(test, per_profile, SEED + k, max_words=400)
        used.update(d.id for d in docs)
        spun[p] = H.spin_docs(docs, p, SEED)
    clean = H.sample_docs(test, n_clean, SEED + 99, max_words=400, exclude=used)

    if "candidates" in todo:
        # The ceiling of restoration: is the original among the candidates the
        # sources propose for the gold spun span (context-free, before the LM)?
        from unspin.config import Config
        from unspin.resources.bundle import get_bundle

        gen = get_bundle(Config(ngram_path=ngram)).generator
        rows = []
        real_items = [H.from_real(p) for p in load_real_pairs()]
        for label, items in [*((p, spun[p]) for p in H.PROFILE_NAMES), ("real", real_items)]:
            n = hit = none = hit_screen = 0
            for it in items:
                for _, sp, og in H.gold_pairs(it):
                    n += 1
                    props = gen.propose(sp)
                    none += not props
                    hit += any(p.text == og for p in props)
                    hit_screen += any(p.text == og for p in gen.propose_screen(sp))
            rows.append([label, str(n), f"{hit / max(1, n):.3f}",
                         f"{hit_screen / max(1, n):.3f}", f"{none / max(1, n):.3f}"])
        rep.table("candidates", "Candidate recall: the gold original among the thesaurus, "
                  "learned and fingerprint proposals (no LM proposals; context-free)",
                  ["profile", "substitutions", "candidate recall (full)",
                   "candidate recall (screen)", "no proposal at all"], rows)

    if "funnel" in todo:
        # Where the gold substitutions are lost: proposals, decisions, the
        # candidates, the choice, the flag (harness.FunnelResult).
        from unspin.config import Config

        overrides: dict[str, dict[str, Any]] = {
            "unspin full": {"ngram_path": ngram}, NEURAL: {"ngram_path": ngram, "scorer": "neural"},
            FULL_DEFAULT: {}, NEURAL_DEFAULT: {"scorer": "neural"}}
        real_items = [H.from_real(p) for p in load_real_pairs()]
        rows = []
        for name in (n for n in FUNNEL_SYSTEMS if n in chosen):
            config = Config().merged(**overrides[name])
            for label, items in [("real", real_items), *((p, spun[p]) for p in H.PROFILE_NAMES)]:
                f = H.evaluate_funnel(config, items)
                cand = "n/a" if f.candidate is None else f"{f.candidate:.3f}"
                rows.append([name, label, str(f.substitutions), f"{f.proposed:.3f}",
                             f"{f.examined:.3f}", cand, f"{f.chosen:.3f}", f"{f.flagged:.3f}",
                             f"{f.restored:.3f}"])
        rep.table("funnel", "Where substitutions are lost: shares of the gold substitutions "
                  "whose original is proposed (context-free), whose span a decision examines, "
                  "whose original is among that decision's candidates (accurate tier) and is "
                  "its choice, whose span is flagged, and restored",
                  ["system", "profile", "substitutions", "proposed", "examined",
                   "among candidates", "chosen", "flagged", "restored"], rows)

    if "detection" in todo:
        rows = []
        mixed = [it for p in H.PROFILE_NAMES for it in spun[p]]
        # The clean sample above stops at 400 words like the spun ones; long
        # features carry more false edits per word, so a second clean sample
        # keeps every story at full length.
        long_clean = H.sample_docs(test, n_clean, SEED + 98,
                                   exclude=used | {d.id for d in clean})
        long_words = sum(M.count_words(d.text) for d in long_clean)
        for name, r in chosen.items():
            d = H.evaluate_detection(r, mixed, clean)
            fe_long, fe_long_ci = H.evaluate_false_edits(r, long_clean)
            rows.append([name, f"{d.auroc:.3f} {_ci(d.auroc_ci)}", f"{d.at_threshold.f1:.3f}",
                         f"{d.ece:.3f}",
                         f"{d.false_edits_per_1000:.1f} {_ci(d.false_edits_ci)}",
                         f"{fe_long:.1f} {_ci(fe_long_ci)}"])
        rep.table("detection", "Document detection (spun a-d vs clean test docs); false edits "
                  f"also on {len(long_clean)} clean stories at full length ({long_words} words)",
                  ["system", "AUROC [95% CI]", "F1 @ spun flag", "ECE (10 bins)",
                   "false edits / 1k words (clean, <= 400 words)",
                   "false edits / 1k words (clean, full length)"], rows)

    if "restoration" in todo:
        rows = []
        for p in H.PROFILE_NAMES:
            for name, r in chosen.items():
                res = H.evaluate_restoration(r, spun[p])
                rows.append([p, name, f"{res.span.precision:.3f}", f"{res.span.recall:.3f}",
                             f"{res.span.f1:.3f} {_ci(res.span_f1_ci)}", f"{res.token.f1:.3f}",
                             f"{res.restoration_exact:.3f} {_ci(res.restoration_ci)}",
                             f"{res.false_change_rate:.4f}"])
        rep.table("restoration", "Span detection and restoration by spinner profile",
                  ["profile", "system", "span P", "span R", "span F1 [95% CI]", "token F1",
                   "restoration EM [95% CI]", "false-change rate"], rows)

    if "cross" in todo:
        rows = []
        n_learn = 60 if args.quick else 400
        abd = str(H.ensure_learned_table(("a", "b", "d"), n_docs=n_learn))
        c_only = str(H.ensure_learned_table(("c",), n_docs=n_learn))
        setups = [("no learned table", ()), ("learned from a,b,d (cross)", (abd,)),
                  ("learned from c (in-profile)", (c_only,))]
        for label, tables in setups:
            r = H.core_restorer(mode="full", ngram_path=ngram, learned_tables=tables)
            res = H.evaluate_restoration(r, spun["c"])
            rows.append([label, f"{res.span.f1:.3f} {_ci(res.span_f1_ci)}",
                         f"{res.restoration_exact:.3f} {_ci(res.restoration_ci)}",
                         f"{res.false_change_rate:.4f}"])
        rep.table("cross", f"Cross-profile: test on profile c ({n_learn} train docs per "
                  "learning profile)", ["unspin full, tables", "span F1", "restoration EM",
                                        "false-change rate"], rows)

    if "real" in todo:
        items = [H.from_real(p) for p in load_real_pairs()]
        rows = []
        for name, r in chosen.items():
            res = H.evaluate_restoration(r, items)
            rows.append([name, f"{res.span.precision:.3f}", f"{res.span.recall:.3f}",
                         f"{res.span.f1:.3f}", f"{res.restoration_exact:.3f}",
                         f"{res.false_change_rate:.4f}"])
        n_gold = sum(len(i.gold_spun) for i in items)
        rep.table("real", f"Real spun news pairs (3 pairs, {n_gold} aligned substitutions)",
                  ["system", "span P", "span R", "span F1", "restoration EM",
                   "false-change rate"], rows)

    if "fingerprints" in todo:
        fp_rows = read_pps_csv(fingerprints_csv())[:n_fp]
        rows = []
        for name, r in chosen.items():
            f = H.evaluate_fingerprints(r, fp_rows)
            rows.append([name, f"{f.top1:.3f}", f"{f.top5:.3f}", f"{f.top1_carrier:.3f}",
                         f"{f.top5_carrier:.3f}", f"{f.classification.precision:.3f}",
                         f"{f.classification.recall:.3f}"])
        rep.table("fingerprints", f"PPS fingerprints, dev CSV ({len(fp_rows)} plain rows; the "
                  "list matcher reads this very list, so its row is an upper bound)",
                  ["system", "top-1", "top-5", "top-1 in carrier", "top-5 in carrier",
                   "classif. P", "classif. R"], rows)

    if "papers" in todo:
        usable = read_pps_csv(fingerprints_csv())
        rows = []
        paper_res: H.PaperResult | None = None
        for name, r in chosen.items():
            paper_res = H.evaluate_paper_paragraphs(r, usable, n_papers, seed=SEED)
            rows.append(_paper_row(name, paper_res))
        shape = (f"{paper_res.paragraphs} paragraphs, {paper_res.phrases} phrases"
                 if paper_res else "no systems")
        rep.table("papers", "PPS fingerprints in paper paragraphs (five tortured phrases in "
                  f"methods-section sentences, and the same paragraphs clean; {shape}; the list "
                  "matcher reads this very list)",
                  ["system", "phrase restored exactly", "phrase flagged",
                   "false edits / 1k carrier words", "false edits / 1k words (clean)",
                   "AUROC tortured vs clean", "spun verdict (tortured)",
                   "spun verdict (clean)"], rows)
        # What a list adds to the model: every other row imported as a fingerprint
        # list, the same paragraphs, only the unlisted phrases scored.
        listed_rows = usable[::2]
        listed = frozenset(r.tortured for r in listed_rows)
        rows = []
        for name, overrides in ((FULL_DEFAULT, {"mode": "full"}),
                                (NEURAL_DEFAULT, {"mode": "full", "scorer": "neural"})):
            if name not in chosen:
                continue
            listed_res = H.evaluate_paper_paragraphs(
                H.listed_restorer(listed_rows, **overrides), usable, n_papers, seed=SEED,
                listed=listed)
            rows.append(_paper_row(f"{name} + every other PPS row listed", listed_res))
        if rows:
            rep.table("papers", "The same paragraphs with every other PPS row imported as a "
                      "fingerprint list (only the unlisted phrases are scored)",
                      ["system", "unlisted phrase restored exactly", "unlisted phrase flagged",
                       "false edits / 1k carrier words", "false edits / 1k words (clean)",
                       "AUROC tortured vs clean", "spun verdict (tortured)",
                       "spun verdict (clean)"], rows)

    if "speed" in todo:
        texts = [d.text for d in H.sample_docs(test, 40 if args.quick else 200, SEED + 5)]
        size_mb = sum(len(t.encode()) for t in texts) / 1e6
        rows = []
        timings: dict[str, float] = {}
        for name in ("list matcher (PPS)", "unspin screen"):
            # models and indexes load on a short text first, as in the per-story
            # tables below: loading is once per process (about a second for the
            # newsroom model), screening a crawl is gigabytes
            rs[name]("The council met on Monday to discuss the budget.")
            t = time.perf_counter()
            for text in texts:
                rs[name](text)
            timings[name] = size_mb / (time.perf_counter() - t)
        base = timings["list matcher (PPS)"]
        for name, mbps in timings.items():
            rows.append([name, "screen", f"{mbps:.3f} MB/s per core", f"{mbps / base:.4f}x"])
        stories = [" ".join(t.split()[:600]) for t in texts if len(t.split()) >= 300][:5]
        stories = stories or texts[:3]
        rss = _own_peak_mb()
        rep.table("speed", f"Speed ({size_mb:.2f} MB screen sample, {len(texts)} new stories, "
                  "models loaded first, per-word caches empty; peak RSS of this process "
                  f"{rss:.0f} MB)", ["system", "mode", "throughput", "vs list matcher"], rows)
        # Each system alone in a new process, one after another: the same cold
        # start for all, and the float32 accurate tier as the baseline of the
        # bfloat16 one, side by side in this run.
        names = ("unspin full", NEURAL_F32, NEURAL, NEURAL_DEFAULT)
        spawn = multiprocessing.get_context("spawn")
        timed: dict[str, tuple[float, float, float]] = {}
        for name in names:
            with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
                timed[name] = pool.submit(_time_stories, (name, ngram, stories)).result()
        base_cold, base_warm, _ = timed[NEURAL_F32]
        rows = [[name, f"{cold:.3f} s", f"{warm:.3f} s", f"{base_cold / cold:.2f}x",
                 f"{base_warm / warm:.2f}x", f"{peak:.0f} MB"]
                for name, (cold, warm, peak) in timed.items()]
        rep.table("speed", f"Seconds per 600-word story ({len(stories)} test stories), each "
                  "system in a new process; first pass with empty per-process caches, then "
                  "the same stories again",
                  ["system", "first pass", "second pass", "speed-up vs float32 accurate tier "
                   "(first)", "(second)", "peak RSS"], rows)
        # Spun text costs the accurate tier more: its continuation check reads
        # a short passage per decision it may report, and clean text has none.
        from unspin.simulate import spin

        spun_stories = [spin(s, "a", SEED + n).text for n, s in enumerate(stories)]
        rows = []
        for name in ("unspin full", NEURAL, NEURAL_DEFAULT):
            with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
                cold, warm, peak = pool.submit(_time_stories,
                                               (name, ngram, spun_stories)).result()
            clean_cold, clean_warm, _ = timed[name]
            rows.append([name, f"{cold:.3f} s", f"{warm:.3f} s", f"{cold / clean_cold:.2f}x",
                         f"{warm / clean_warm:.2f}x", f"{peak:.0f} MB"])
        rep.table("speed", f"Seconds per spun 600-word story (the same {len(stories)} stories, "
                  "spun with profile a), each system in a new process, against the clean "
                  "stories above",
                  ["system", "first pass", "second pass", "vs clean (first)", "(second)",
                   "peak RSS"], rows)
        # What a one-shot command costs, start-up included (imports, model load,
        # first-use tables): the tables above start their clocks after loading.
        example = str(resources.files("unspin") / "examples" / "spun_news.txt")
        rows = []
        shots: dict[str, list[float]] = {}
        for _ in range(3):  # interleaved, so drift in the machine's speed hits both
            for name, extra in (("unspin check", []), ("unspin check --scorer neural",
                                                       ["--scorer", "neural"])):
                t = time.perf_counter()
                subprocess.run([sys.executable, "-m", "unspin.cli.main", "check", *extra,
                                example], check=True, capture_output=True)
                shots.setdefault(name, []).append(time.perf_counter() - t)
        base_shot = sorted(shots["unspin check"])[1]
        for name, times in shots.items():
            rows.append([name, ", ".join(f"{t:.2f}" for t in times),
                         f"{sorted(times)[1]:.2f} s", f"{sorted(times)[1] / base_shot:.2f}x"])
        rep.table("speed", "One-shot CLI on the bundled 74-word example, a new process each "
                  "(default LM; three interleaved runs)",
                  ["command", "seconds per run", "median", "vs n-gram"], rows)

    if "scaling" in todo:
        body = "\n\n".join(d.text for d in test[:2000])
        rows = []
        sizes = [1_000, 10_000, 100_000] + ([] if args.quick else [1_000_000])
        for size in sizes:
            text = body[:size]
            for name in ("list matcher (PPS)", "unspin screen"):
                t = time.perf_counter()
                rs[name](text)
                sec = time.perf_counter() - t
                rows.append([f"{size // 1000} KB", name, "1", f"{sec:.3f}",
                             f"{len(text.encode()) / 1e6 / sec:.3f}"])
        chunks = [body[i : i + 5_000] for i in range(0, 200_000 if args.quick else 1_000_000,
                                                      5_000)]
        jobs: list[tuple[str, tuple[tuple[str, Any], ...]]] = [
            (c, (("mode", "screen"), ("ngram_path", ngram))) for c in chunks]
        for workers in (1, 2):
            t = time.perf_counter()
            with ProcessPoolExecutor(max_workers=workers) as pool:
                list(pool.map(H.check_worker, jobs, chunksize=4))
            sec = time.perf_counter() - t
            mb = sum(len(c.encode()) for c in chunks) / 1e6
            rows.append([f"{mb:.1f} MB in 5 KB docs", "unspin screen", str(workers),
                         f"{sec:.2f}", f"{mb / sec:.3f}"])
        rep.table("scaling", "Scaling with document length and workers (includes pool start-up "
                  "and per-worker resource loading)",
                  ["input", "system", "workers", "seconds", "MB/s"], rows)

    rep.emit(f"<!-- total {time.perf_counter() - started:.0f} s -->")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write("\n".join(rep.lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
