"""The accurate-tier neural LM (SmolLM2-135M-Instruct GGUF, unspin's own Llama code).

These load the real model. They never skip: if the ``[neural]`` extra is not
installed, ``NeuralLM.load`` raises ``ResourceError`` and the tests fail,
which is what CI should see.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import unspin
from unspin.errors import InputError
from unspin.lm.neural import NeuralLM, get_neural_lm

pytestmark = pytest.mark.engine

# (original, spun): real spinner output and the text it came from.
PAIRS = [
    ("the United Nations Security Council", "the United International locations Safety Council"),
    ("warning shots were fired", "caution pictures were fired"),
    ("artificial intelligence", "counterfeit consciousness"),
    ("the number of cases rose", "the assortment of cases rose"),
    ("the death toll rose to 68", "the dying toll rose to 68"),
    ("according to the Health Ministry", "per the Successfully being Ministry"),
    ("183 people were either cured", "183 people hold been both cured"),
    ("it said", "it talked about"),
    ("of whom 339 have died", "of whom 339 have actually passed away"),
    ("Maharashtra has reported the most deaths so far",
     "Maharashtra has reported the most deaths up to now"),
    ("The figure of 2,902 includes 55 foreign nationals.",
     "The establish of two,902 entails 55 international nationals."),
    ("the country was way ahead of the rest of the world",
     "the nation was way ahead of the rest of the planet"),
]


@pytest.fixture(scope="module")
def lm() -> NeuralLM:
    """float32: the plumbing tests below compare scores to 1e-3, which holds on
    every machine only in float32 (bfloat16 has its own tests)."""
    return get_neural_lm(precision="float32")


def test_prefers_original_over_spun(lm: NeuralLM) -> None:
    scores = lm.score([text for pair in PAIRS for text in pair])
    losers = [
        (original, spun, scores[2 * i], scores[2 * i + 1])
        for i, (original, spun) in enumerate(PAIRS)
        if not scores[2 * i] > scores[2 * i + 1]
    ]
    assert not losers, f"model preferred the spun text: {losers}"


def test_batched_scores_equal_one_at_a_time(lm: NeuralLM) -> None:
    texts = [text for pair in PAIRS for text in pair]
    batched = lm.score(texts)
    single = [lm.score([t])[0] for t in texts]
    for text, b, s in zip(texts, batched, single, strict=True):
        assert b == pytest.approx(s, abs=1e-3), text


def test_batch_order_does_not_matter(lm: NeuralLM) -> None:
    texts = [PAIRS[0][0], "a much longer sentence than the others, so it is padded last", "it"]
    forward = lm.score(texts)
    backward = lm.score(texts[::-1])[::-1]
    assert forward == pytest.approx(backward, abs=1e-3)


def test_token_logprobs_sum_to_score(lm: NeuralLM) -> None:
    text = "the United Nations Security Council"
    tokens = lm.token_logprobs(text)
    assert "".join(tok for tok, _ in tokens) == text
    assert all(value < 0.0 for _, value in tokens)
    assert math.fsum(v for _, v in tokens) == pytest.approx(lm.score([text])[0], abs=1e-4)


def test_empty_text_scores_zero_and_bytes_are_refused(lm: NeuralLM) -> None:
    assert lm.score([]) == []
    assert lm.score([""]) == [0.0]
    with pytest.raises(InputError, match="decode"):
        lm.score([b"bytes"])  # type: ignore[list-item]


def test_loaded_once_per_process(lm: NeuralLM) -> None:
    assert get_neural_lm(precision="float32") is lm
    assert get_neural_lm(precision="bfloat16") is get_neural_lm(precision="bfloat16")


def test_bfloat16_copy_computes_exactly_what_autocast_computes(lm: NeuralLM) -> None:
    """The bfloat16 model holds its linear weights cast once; every other tensor is
    the float32 model's own, and the logits are bit-identical to running the
    float32 model under autocast (which casts the weights on every pass)."""
    import torch

    half = NeuralLM(lm.model, lm.tokenizer, precision="bfloat16")
    assert half.model is not lm.model
    assert {p.dtype for p in lm.model.parameters()} == {torch.float32}  # left as it was
    linears = [m for m in half.model.modules() if isinstance(m, torch.nn.Linear)]
    assert linears and all(m.weight.dtype == torch.bfloat16 for m in linears)
    assert half.model.get_input_embeddings().weight is lm.model.get_input_embeddings().weight
    ids = torch.tensor([lm.context_ids + lm._encode(" ".join(spun for _, spun in PAIRS))])
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        expected = lm.model(input_ids=ids).float()
    assert torch.equal(half._logits(input_ids=ids), expected)
    with pytest.raises(ValueError, match="float32"):
        NeuralLM(half.model, lm.tokenizer, precision="float32")


def test_bfloat16_scores_stay_close_to_float32(lm: NeuralLM) -> None:
    """bfloat16 autocast is a speed choice: it must not change what the model
    prefers, and its token log-probabilities stay near float32's (on this
    project's machine: mean difference 0.03 nats a token)."""
    half = get_neural_lm(precision="bfloat16")
    assert half.precision == "bfloat16"
    texts = [text for pair in PAIRS for text in pair]
    exact, approx = lm.score(texts), half.score(texts)
    for i in range(0, len(texts), 2):
        assert approx[i] > approx[i + 1], texts[i : i + 2]  # still prefers the original
    for text, a, b in zip(texts, exact, approx, strict=True):
        # measured here: at most 0.6 nats per phrase, while every original here
        # beats its spun copy by more than 5
        assert b == pytest.approx(a, abs=1.0), text
    story = " ".join(original for original, _ in PAIRS)
    diffs = [abs(a - b) for (_, a), (_, b) in zip(lm.token_logprobs(story),
                                                  half.token_logprobs(story), strict=True)]
    assert sum(diffs) / len(diffs) < 0.1
    assert max(diffs) < 1.0


def test_auto_precision_means_bfloat16_only_where_the_cpu_has_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import unspin.lm.neural as neural

    monkeypatch.setattr(neural, "native_bfloat16", lambda: False)
    assert neural.resolve_precision("auto") == "float32"
    monkeypatch.setattr(neural, "native_bfloat16", lambda: True)
    assert neural.resolve_precision("auto") == "bfloat16"
    assert neural.resolve_precision("float32") == "float32"
    with pytest.raises(ValueError, match="neural precision"):
        neural.resolve_precision("half")


def test_import_unspin_stays_light() -> None:
    code = (
        "import sys, unspin, unspin.lm.neural; "
        "heavy = [m for m in ('torch', 'transformers', 'llama_cpp') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_tier_runs_without_importing_transformers(lm: NeuralLM) -> None:
    """Once the model is converted (the ``lm`` fixture did it), loading and
    scoring need torch, tokenizers and safetensors only: transformers' import
    alone was about 3 s of every process that used the tier."""
    code = (
        "import sys, unspin; from unspin.lm.neural import get_neural_lm; "
        "lm = get_neural_lm(); assert lm.score(['the death toll rose'])[0] < 0; "
        "a = unspin.check('The dying toll rose to 68.', unspin.Config(scorer='neural')); "
        "assert 'transformers' not in sys.modules, sorted(m for m in sys.modules "
        "if m.startswith('transformers'))[:5]"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def _converted() -> str:
    """The converted model directory the default LM was loaded from."""
    from unspin.lm import neural

    return str(neural._converted_dir(neural.default_gguf_path()))


def _transformers_twin(lm: NeuralLM) -> Any:
    """transformers' own Llama over the very tensors ``lm`` holds (so memory
    alignment, which moves single-row matrix products in the last bit, is the same)."""
    import torch
    import transformers

    config = transformers.AutoConfig.from_pretrained(_converted(), local_files_only=True)
    config._attn_implementation = "sdpa"
    twin = transformers.AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    state = {name: tensor for name, tensor in lm.model.state_dict().items()}
    twin.load_state_dict(state, assign=True, strict=False)
    twin.tie_weights()
    return twin.eval()


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_llama_code_computes_what_transformers_computes(lm: NeuralLM, precision: str) -> None:
    """unspin.lm.llama replaces transformers' Llama at run time; its hidden states,
    caches and logits must be bit-identical to transformers' for every kind of
    pass the tier runs: one text, a right-padded batch, a single token, and a
    left-padded batch read over a gathered cache at explicit positions."""
    import torch
    import transformers

    from unspin.lm.neural import _bfloat16_linears

    ours = lm.model
    twin = _transformers_twin(lm)
    if precision == "bfloat16":
        ours = _bfloat16_linears(ours, copy_model=True)
        twin = _bfloat16_linears(twin, copy_model=True)
        cast = torch.autocast("cpu", dtype=torch.bfloat16)
    else:
        cast = torch.autocast("cpu", enabled=False)
    mine, theirs = ours.get_decoder(), twin.get_decoder()
    text = lm.context_ids + lm._encode(" ".join(spun for _, spun in PAIRS))
    rows = [lm.context_ids + lm._encode(t) for t in ("Hello there.", "The dying toll rose to 68.",
                                                       "Short")]
    width = max(map(len, rows))
    batch = torch.full((len(rows), width), 2)
    padding = torch.zeros((len(rows), width), dtype=torch.long)
    for r, row in enumerate(rows):
        batch[r, : len(row)] = torch.tensor(row)
        padding[r, : len(row)] = 1
    with torch.inference_mode(), cast:
        ids = torch.tensor([text])
        hidden, cache = mine(input_ids=ids)
        ref = theirs(input_ids=ids, use_cache=True)
        assert torch.equal(hidden, ref.last_hidden_state)
        assert all(torch.equal(k, layer.keys) and torch.equal(v, layer.values)
                   for (k, v), layer in zip(cache, ref.cache.layers, strict=True))
        assert torch.equal(ours.lm_head(hidden), twin.lm_head(ref.last_hidden_state))
        got, _ = mine(input_ids=batch, attention_mask=padding)
        assert torch.equal(got, theirs(input_ids=batch, attention_mask=padding).last_hidden_state)
        got, _ = mine(input_ids=ids[:, :1])
        assert torch.equal(got, theirs(input_ids=ids[:, :1]).last_hidden_state)
        # two readings over slices of the cache: the second left-padded by 3
        idx = torch.tensor([[0, 1, 2, 3, 4], [0, 0, 0, 2, 3]])
        past = [(k[0][:, idx].transpose(0, 1).contiguous(),
                 v[0][:, idx].transpose(0, 1).contiguous()) for k, v in cache]
        mask = torch.tensor([[1, 1, 1, 1, 1, 1, 1, 1, 1], [0, 0, 0, 1, 1, 1, 1, 0, 0]])
        reading = torch.tensor([[10, 20, 30, 40], [50, 60, 2, 2]])
        positions = torch.tensor([[5, 6, 7, 8], [4, 5, 6, 7]])
        for width_ in (4, 1):
            got, _ = mine(input_ids=reading[:, :width_], attention_mask=mask[:, : 5 + width_],
                          position_ids=positions[:, :width_], cache=past)
            ref = theirs(input_ids=reading[:, :width_], attention_mask=mask[:, : 5 + width_],
                         position_ids=positions[:, :width_], use_cache=True,
                         cache=transformers.DynamicCache([(k, v) for k, v in past]))
            assert torch.equal(got, ref.last_hidden_state)


def test_tokenizer_matches_transformers(lm: NeuralLM) -> None:
    """The tokenizer is read with the tokenizers library, not transformers: the same
    ids and character offsets (which map spans to tokens), the same decoding."""
    import transformers

    theirs = transformers.AutoTokenizer.from_pretrained(_converted(), local_files_only=True)
    texts = ["<|endoftext|>The United International locations Safety Council",
             "Ünïcode — “quotes” 😀 עברית\n\n  spaces\ttab", "", " x", "2,902 cases.\r\n"]
    for text in texts:
        ref = theirs(text, add_special_tokens=False, return_offsets_mapping=True)
        assert lm.tokenizer.encode_with_offsets(text) == (
            list(ref["input_ids"]), [tuple(o) for o in ref["offset_mapping"]])
    assert len(lm.tokenizer) == len(theirs)
    assert lm.tokenizer.eos_token_id == theirs.eos_token_id
    sample = range(0, len(theirs), 97)
    assert lm.tokenizer.decode_each(sample) == [theirs.decode([i]) for i in sample]


def test_predictions_come_from_the_scoring_pass(lm: NeuralLM) -> None:
    text = "Officials said the death toll from the earthquake rose to 68 on Saturday."
    at = text.index("toll")
    ev = lm.evidence(text, [(at, at + len("toll"), [])], top=10)
    (pe,) = ev.spans
    assert pe is not None
    assert ev.mean_lp * ev.tokens == pytest.approx(lm.score([text])[0], abs=1e-2)
    words = [w for w, _ in pe.predicted]
    assert "toll" in words[:3], words
    assert all(lp < 0.0 for _, lp in pe.predicted)
    assert len(pe.predicted) == 10


def test_evidence_agrees_with_the_scoring_pass(lm: NeuralLM) -> None:
    text = "Officials said the assortment of cases rose to 68 on Saturday."
    start = text.index("assortment")
    end = start + len("assortment")
    ev = lm.evidence(text, [(start, end, ["number", "assortment", "variety"])], top=10)
    (pe,) = ev.spans
    assert pe is not None
    # the spun word scored as an alternative is the spun word's own first token
    assert pe.alternatives["assortment"] == pytest.approx(pe.spun_first, abs=1e-4)
    assert pe.alternatives["number"] > pe.spun_first
    # per-token values are those of the batched scorer
    by_token = lm.token_logprobs(text)
    assert sum(v for _, v in by_token) == pytest.approx(ev.mean_lp * ev.tokens, abs=1e-2)
    assert pe.next_lp == pytest.approx(
        next(v for (t, v), (t0, _) in zip(by_token[1:], by_token, strict=False)
             if t0.strip() == "assortment"), abs=1e-3)
    assert pe.rank > 0 and pe.entropy > 0.0
    assert [w for w, _ in pe.predicted][:10] and all(lp < 0 for _, lp in pe.predicted)


def test_evidence_on_a_text_longer_than_one_chunk(lm: NeuralLM) -> None:
    from unspin.lm.neural import CHUNK_TOKENS

    sentence = "The council met on Monday and the assortment of members voted. "
    text = sentence * (CHUNK_TOKENS // 10)
    last = text.rindex("assortment")
    breaks = [k for k in range(len(text)) if text.startswith("The council", k)]
    ev = lm.evidence(text, [(last, last + len("assortment"), ["number"])], breaks)
    assert ev.tokens > CHUNK_TOKENS
    (pe,) = ev.spans
    assert pe is not None and math.isfinite(pe.spun_first)
    assert 0.0 <= ev.low_share <= 1.0 and ev.mean_lp < 0.0


def test_evidence_for_a_span_with_no_token(lm: NeuralLM) -> None:
    ev = lm.evidence("Short text.", [(50, 60, ["x"])])
    assert ev.spans == [None]
    with pytest.raises(InputError):
        lm.evidence(b"bytes", [])  # type: ignore[arg-type]


def test_the_accurate_tier_reopens_what_the_ngram_path_kept() -> None:
    """With the shipped (weak) n-gram model, the first pass keeps most spun
    words; the accurate tier must still put them before the neural model."""
    from unspin import Config
    from unspin.core import analyze

    text = ("The assortment of Covid-19 cases climbed to 2,902 on Saturday while the "
            "dying toll rose to 68, the ministry stated.")
    ngram: list[tuple[int, int, str, dict[str, float]]] = []
    neural: list[tuple[int, int, str, dict[str, float]]] = []
    analyze(text, Config(flag_threshold=0.01), collect=ngram)
    analyze(text, Config(scorer="neural", flag_threshold=0.01), collect=neural)
    first_pass = {(s, e) for s, e, *_ in ngram}
    reopened = {(s, e) for s, e, _, f in neural if f.get("nn_reopened") == 1.0}
    assert reopened, "no kept position was reopened"
    assert not reopened & first_pass
    assert first_pass <= {(s, e) for s, e, *_ in neural}
    assert text.index("assortment") in {s for s, _ in reopened | first_pass}


def test_the_accurate_tier_restores_what_its_ranker_ranks_first() -> None:
    """Whether a span was substituted comes from the noisy-channel posterior;
    which original, from the ranker (the fixed sum unless a fitted one is
    installed): every flagged span carries the ranker's first choice, explains
    it, and lists its candidates in the ranker's order, except where the
    continuation check re-chose with the next words, which says so and lists
    its choice before the ranker's."""
    from unspin import Config
    from unspin.core import analyze
    from unspin.decode.rerank import Ranker
    from unspin.decode.rescore import RankingRow
    from unspin.resources.bundle import get_bundle

    config = Config(scorer="neural", flag_threshold=0.05)
    ranker = get_bundle(config).ranker or Ranker.fixed(config.channel_weight)
    text = ("The assortment of Covid-19 cases climbed to 2,902 on Saturday while the "
            "dying toll rose to 68, the ministry stated. Officials talked about new "
            "curbs on the caution pictures fired near the border.")
    rows: list[RankingRow] = []
    a = analyze(text, config, ranking=rows)
    by_span = {(r.start, r.end): r for r in rows}
    checked = rechecked = 0
    for s in a.spans:
        row = by_span.get((s.start, s.end))
        if row is None:
            continue  # a listed fingerprint, not a decoder decision
        ranked = [e for e in s.evidence if e.kind == "ranker"]
        subs = [c for c in s.candidates if "spun" not in c.sources]
        rechosen = [e for e in ranked if e.detail.startswith("re-chosen")]
        if rechosen:
            # the ranker's first choice is listed second, and the rest follow it
            assert len(ranked) == 2 and f"'{subs[1].text}'" in rechosen[0].detail
            assert s.restored == subs[0].text != subs[1].text
            subs = subs[1:]
            rechecked += 1
        else:
            assert len(ranked) == 1
        assert subs[0].text.lower() == row.texts[ranker.best(row.features)]
        assert 0.0 < ranked[0].value <= 1.0
        # the substitutions' posteriors follow the ranker's order
        scores = [ranker.score(row.features[row.texts.index(c.text.lower())]) for c in subs]
        assert scores == sorted(scores, reverse=True)
        checked += 1
    assert checked >= 2 and checked > rechecked


def test_continuation_gain_equals_reading_both_texts_afresh(lm: NeuralLM) -> None:
    """With a window holding the whole prefix, the cached reading must equal
    scoring the spun and the candidate text from scratch, token for token."""
    from unspin.lm.neural import NeuralLM as Model

    text = ("Modi on Tuesday prolonged a nationwide lockdown as the number of coronavirus "
            "instances crossed 10,000 in spite of a three-week closure.")
    start = text.index("instances")
    end = start + len("instances")
    ev = lm.evidence(text, [(start, end, ["cases"])])
    got = lm.continuation_gains(ev, [(0, "cases"), (0, "representatives")], window=10_000)
    state = ev.state
    assert state is not None and state.ranges[0] is not None
    k0, k1 = state.ranges[0]
    follow = Model._following(state, k1, len(state.ids), 4)
    assert lm.tokenizer.decode(follow) == " crossed 10,000 in spite"

    def afresh(reading: str) -> float:
        ids = lm.tokenizer.encode(" " + reading)
        values = lm._token_logprobs([state.ids[:k0] + ids + follow])[0]
        return math.fsum(values[k0:])

    spun = afresh("instances")
    assert got[0] == pytest.approx(afresh("cases") - spun, abs=1e-3)
    assert got[1] == pytest.approx(afresh("representatives") - spun, abs=1e-3)
    assert got[0] > 0 > got[1]  # what follows agrees with "cases", not "representatives"


def test_a_reading_takes_its_first_token_from_the_pass(lm: NeuralLM) -> None:
    """A candidate's first token is scored by the pass's own distribution at the
    span (the token before it is the cache's, read with the whole chunk before
    it): with no following words, a one-token candidate's continuation gain is
    the pass's first-token gain, whatever the window."""
    text = ("Modi on Tuesday prolonged a nationwide lockdown as the number of coronavirus "
            "instances crossed 10,000 in spite of a three-week closure.")
    start = text.index("instances")
    ev = lm.evidence(text, [(start, start + len("instances"), ["cases", "examples"])])
    pe = ev.spans[0]
    assert pe is not None
    assert [lm.tokenizer.encode(" " + w) for w in ("cases", "examples")] == [
        [lm._first_token("cases", True)], [lm._first_token("examples", True)]]
    for window in (0, 3, 10_000):
        got = lm.continuation_gains(ev, [(0, "cases"), (0, "examples")], words=0, window=window)
        for word, gain in zip(("cases", "examples"), got, strict=True):
            assert gain == pytest.approx(pe.alternatives[word] - pe.spun_first, abs=1e-4)


def test_next_word_scores_equal_reading_the_candidate_afresh(lm: NeuralLM) -> None:
    """A word read after a candidate in place of a span must score what it scores
    after the prefix and the candidate read from scratch (its first token)."""
    text = "Police fired caution pictures into the air as the crowd moved closer."
    start = text.index("caution")
    ev = lm.evidence(text, [(start, start + len("caution"), ["warning"])])
    words = ["shots", "pictures", "signs"]
    warning, caution, nothing = lm.next_word_scores(
        ev, [(0, "warning", words), (0, "caution", words), (5, "x", words)], window=10_000)
    state = ev.state
    assert state is not None and state.ranges[0] is not None
    k0 = state.ranges[0][0]

    def afresh(reading: str, word: str) -> float:
        ids = state.ids[:k0] + lm.tokenizer.encode(" " + reading)
        first = lm.tokenizer.encode(" " + word)[0]
        return lm._token_logprobs([[*ids, first]])[0][-1]

    assert warning is not None and caution is not None and nothing is None
    for word in words:
        assert warning[word] == pytest.approx(afresh("warning", word), abs=1e-3)
        assert caution[word] == pytest.approx(afresh("caution", word), abs=1e-3)
    # the spun text read as it stands: the pass's own score of "pictures"
    assert ev.spans[0] is not None
    assert caution["pictures"] == pytest.approx(ev.spans[0].next_lp, abs=1e-3)
    # "shots" belongs after "warning", more than after "caution" or than "pictures" does
    assert warning["shots"] > max(caution["shots"], warning["pictures"])
    assert lm.next_word_scores(ev, []) == []


def test_continuation_gains_in_the_default_window_and_where_none_is_possible(
        lm: NeuralLM) -> None:
    sentence = "The council met on Monday and the assortment of members voted. "
    text = sentence * 12
    last = text.rindex("assortment")
    ev = lm.evidence(text, [(last, last + len("assortment"), ["number"]), (5000, 5010, ["x"])])
    windowed, no_token, unknown = lm.continuation_gains(ev, [(0, "number"), (1, "x"), (7, "y")])
    (whole,) = lm.continuation_gains(ev, [(0, "number")], window=10_000)
    # the window still holds the sentence twice over: it too expects the
    # repeated "assortment", as reading the whole prefix does
    assert windowed is not None and whole is not None
    assert windowed < 0 and whole < 0
    assert no_token is None and unknown is None
    assert lm.continuation_gains(ev, []) == []


def test_continuation_check_is_explained_and_replays() -> None:
    """A span the continuation check read says so, with the gain and the
    probability before the check; the edits still replay to the restored text."""
    from unspin import Config, apply_edits
    from unspin.core import analyze
    from unspin.decode.rescore import CONTINUATION_CLIP, CONTINUATION_MIN

    text = ("The assortment of Covid-19 cases climbed to 2,902 on Saturday while the "
            "dying toll rose to 68, the ministry stated.")
    got: list[tuple[int, int, str, dict[str, float]]] = []
    a = analyze(text, Config(scorer="neural", flag_threshold=0.05), collect=got)
    checked = [f for *_, f in got if "nn_cont_gain" in f]
    assert checked, "no decision reached the check"
    assert all(f["span_given_first_pass"] >= CONTINUATION_MIN for f in checked)
    dying = next(f for s, _, _, f in got if s == text.index("dying"))
    assert dying["nn_cont_gain"] > 0  # "death toll rose" reads better than "dying toll rose"
    span = next(s for s in a.spans if s.text == "dying")
    (note,) = [e for e in span.evidence if e.kind == "continuation"]
    assert note.value == pytest.approx(dying["nn_cont_gain"])
    assert f"{dying['span_given_first_pass']:.3f} before this check" in note.detail
    assert apply_edits(text, a.edits) == a.restored_text
    # the document verdict reads the check: its strongest gain is a document feature
    assert a.features["cont_max_gain"] == pytest.approx(
        max(min(CONTINUATION_CLIP, f["nn_cont_gain"]) for f in checked))
    (why,) = [e for e in a.evidence if "continuation gain" in e.detail]
    assert why.kind == "verdict"
    assert min(CONTINUATION_CLIP, why.value) == pytest.approx(a.features["cont_max_gain"])


def test_the_check_re_chooses_the_original_and_never_moves_a_flag(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading the likeliest substitutions with the next words picks the
    original the single pass missed ("The assortment of active cases": 'number',
    not 'variety'), says so, and changes which words are restored, never which
    spans are flagged or how confidently (the models read the single pass's
    choice)."""
    from unspin import Config, apply_edits
    from unspin.core import analyze
    from unspin.decode import rescore

    text = (Path(unspin.__file__).parent / "examples" / "spun_news.txt").read_text()
    config = Config(scorer="neural")
    a = analyze(text, config)
    monkeypatch.setattr(rescore, "CHOICE_READINGS", 1)  # the single pass's choice only
    single = analyze(text, config)
    assert [(s.start, s.end, s.confidence) for s in a.spans] == [
        (s.start, s.end, s.confidence) for s in single.spans]
    assert a.score == single.score and a.features == single.features
    before = {s.text: s.restored for s in single.spans}
    after = {s.text: s for s in a.spans}
    assert before["assortment"] == "variety" and after["assortment"].restored == "number"
    span = after["assortment"]
    assert span.candidates[0].text == "number"  # the restored original is listed first
    (why,) = [e for e in span.evidence if e.detail.startswith("re-chosen")]
    assert why.kind == "ranker" and "'variety'" in why.detail
    (read,) = [e for e in span.evidence if e.kind == "continuation"]
    assert "'variety' and the next words" in read.detail  # what the probability read
    assert why.value > read.value  # 'number' reads better with what follows
    assert apply_edits(text, a.edits) == a.restored_text
    assert [e.source for e in a.edits if e.old == "assortment"] == [
        "+".join(span.candidates[0].sources)]


def test_flags_and_suspects_are_re_chosen_in_batches_of_their_own(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The re-choice reads more passages only for what the analysis shows: the
    flagged spans, then the suspects (spans the document score kept below the
    threshold) in a call of their own, three substitutions each at most,
    against the spun reading the check already scored. A text with neither
    reads the check's batch alone. A suspect gets the best guess too:
    'caution pictures' is 'warning shots', not 'photos'. (The collocation
    readings, a batch of their own before any of these, are switched off: with
    them 'caution pictures' is flagged as one collocation, tested elsewhere.)"""
    from unspin import Config
    from unspin.core import analyze
    from unspin.decode import rescore
    from unspin.decode.rescore import CHOICE_READINGS
    from unspin.lm import neural

    monkeypatch.setattr(rescore, "COLLOCATIONS", False)

    calls: list[int] = []
    real = neural.NeuralLM.continuation_gains

    def counted(self: NeuralLM, evidence: Any, queries: Any, *args: Any,
                **kwargs: Any) -> list[float | None]:
        calls.append(len(queries))
        return real(self, evidence, queries, *args, **kwargs)

    monkeypatch.setattr(neural.NeuralLM, "continuation_gains", counted)
    config = Config(scorer="neural")
    a = analyze("Soldiers fired caution pictures into the air as the crowd approached "
                "the border.", config)
    assert not a.spans and [s.text for s in a.suspects] == ["pictures"]
    assert len(calls) == 2 and 0 < calls[1] <= CHOICE_READINGS - 1
    (suspect,) = a.suspects
    assert suspect.restored == "shots"
    assert any(e.detail.startswith("re-chosen") for e in suspect.evidence)
    calls.clear()
    clean = analyze("The central bank raised its main interest rate by a quarter of a point "
                    "on Thursday, citing stubborn inflation in services and a tight labour "
                    "market.", config)
    assert not clean.spans and not clean.suspects and len(calls) == 1 and calls[0] > 0
    calls.clear()
    text = (Path(unspin.__file__).parent / "examples" / "spun_news.txt").read_text()
    b = analyze(text, config)
    assert b.spans and 2 <= len(calls) <= 3
    assert 0 < calls[1] <= (CHOICE_READINGS - 1) * len(b.spans)


def test_continuation_check_runs_before_the_document_verdict_on_clean_text() -> None:
    """Clean text gets the check too: the document model reads its answers, so
    a text that reads as clean is not exempt from it."""
    from unspin import Config
    from unspin.core import analyze
    from unspin.decode.rescore import CONTINUATION_CLIP

    text = ("The central bank raised its main interest rate by a quarter of a point on "
            "Thursday, citing stubborn inflation in services and a tight labour market.")
    got: list[tuple[int, int, str, dict[str, float]]] = []
    a = analyze(text, Config(scorer="neural"), collect=got)
    checked = [f["nn_cont_gain"] for *_, f in got if "nn_cont_gain" in f]
    assert checked, "no decision in the clean text reached the check"
    assert "cont_max_gain" in a.features
    assert a.features["cont_max_gain"] == pytest.approx(
        max((min(CONTINUATION_CLIP, g) for g in checked), default=-CONTINUATION_CLIP))
    plain = analyze(text, Config(scorer="neural"))
    assert plain.features["cont_max_gain"] == a.features["cont_max_gain"]
    assert plain.score == pytest.approx(a.score)


def test_word_vocabulary_is_what_decoding_each_token_gives(lm: NeuralLM) -> None:
    """The words the tier proposes from come from one batched decode; it must list
    exactly the tokens that decode, one by one, to a space and a lower-case word."""
    ids, words = lm._word_vocab()
    expected = [(tok_id, piece[1:]) for tok_id in range(len(lm.tokenizer))
                if len(piece := lm.tokenizer.decode([tok_id])) >= 4 and piece[0] == " "
                and piece[1:].isalpha() and piece[1:].islower()]
    assert list(zip(ids.tolist(), words, strict=True)) == expected
    assert "number" in words


def test_llama_config_refuses_what_the_code_does_not_implement(tmp_path: Any) -> None:
    """Another rotary scheme, a bias or a missing field is refused with a reason,
    never computed differently from the model's own definition."""
    import json

    from unspin.errors import ResourceError
    from unspin.lm.llama import LlamaConfig

    good = {"model_type": "llama", "vocab_size": 10, "hidden_size": 8, "intermediate_size": 16,
            "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1,
            "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0}}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(good))
    assert LlamaConfig.from_file(path).head_dim == 4
    for bad, why in (({"rope_parameters": {"rope_type": "yarn", "rope_theta": 1.0}}, "rope_type"),
                     ({"attention_bias": True}, "attention_bias"),
                     ({"hidden_act": "gelu"}, "hidden_act"),
                     ({"vocab_size": None}, "incomplete")):
        path.write_text(json.dumps({**good, **bad}))
        with pytest.raises(ResourceError, match=why):
            LlamaConfig.from_file(path)
    path.write_text("{not json")
    with pytest.raises(ResourceError, match="cannot read"):
        LlamaConfig.from_file(path)
