"""Where candidates come from: prior-ranked thesaurus links and LM gap fills."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import unspin
from unspin.candidates.lmfill import FillIndex, build_fill_index
from unspin.config import Config
from unspin.decode.channel import ChannelModel
from unspin.decode.lattice import Edge, SentenceDecoder
from unspin.resources.bundle import get_bundle
from unspin.resources.inverse import PRIOR_FLOOR, phrase_prior


def test_inverse_links_carry_the_originals_prior() -> None:
    inverse = get_bundle(Config()).generator.inverse
    assert inverse is not None
    entries = {e.original: e for e in inverse.lookup("place")}
    # "time" is one of the frequent originals a news spinner turns into "place";
    # ranking links by fan-out alone dropped it (candidate recall, BENCHMARKS.md).
    assert "time" in entries
    assert entries["time"].prior > PRIOR_FLOOR
    rare = [e for e in entries.values() if e.prior < entries["time"].prior - 5]
    assert rare, "the index must keep priors that tell frequent from rare originals"


def test_a_keys_links_come_back_whole() -> None:
    """Links are packed into one trie value per key: every link of a common word
    comes back, and the cheap neighbourhood read agrees with them."""
    from unspin.resources.inverse import MAX_LINKS_PER_KEY, parse_link

    inverse = get_bundle(Config()).generator.inverse
    assert inverse is not None
    links = inverse.lookup("place")
    assert len(links) == MAX_LINKS_PER_KEY  # a common word fills its quota
    assert len({e.original for e in links}) == len(links)
    assert inverse.originals("place") == {e.original.encode() for e in links}
    # the raw read that candidate ranking scores parses to the same entries, in order
    assert tuple(parse_link(link) for link in inverse.links("place")) == links
    assert inverse.count("place") == len(links)
    assert inverse.lookup("qqzzxx") == () and inverse.originals("qqzzxx") == frozenset()
    assert inverse.links("qqzzxx") == [] and inverse.count("qqzzxx") == 0
    multi = inverse.lookup("up to now")
    assert "so far" in {e.original for e in multi}
    assert all(e.fanout >= 1 and e.sources for e in multi)


def test_phrase_prior_sums_words_and_floors_unknowns() -> None:
    uni = {"so": -5.0, "far": -7.0}
    assert phrase_prior("so far", uni) == -12.0
    assert phrase_prior("qqzz", uni) == PRIOR_FLOOR


def test_frequent_original_is_proposed_for_a_common_spun_word() -> None:
    gen = get_bundle(Config()).generator
    texts = [p.text for p in gen.propose(("place",))]
    assert "time" in texts


ARPA = """\\data\\
ngram 1=9
ngram 2=8

\\1-grams:
-99\t<s>\t0
-1.0\t</s>
-1.0\tthe\t-0.3
-1.5\tnumber\t-0.3
-1.5\tassortment\t-0.3
-1.5\tof\t-0.3
-1.5\tcases\t-0.3
-2.0\trapidly
-2.0\tbank\t-0.3

\\2-grams:
-0.3\tthe number
-1.5\tthe bank
-2.5\tthe assortment
-0.2\tnumber of
-0.9\tbank of
-0.4\tof cases
-1.0\tthe rapidly
-0.5\trapidly of

\\end\\
"""


@pytest.fixture()
def fill(tmp_path: Path) -> FillIndex:
    arpa = tmp_path / "tiny.arpa"
    arpa.write_text(ARPA, encoding="utf-8")
    out = tmp_path / "fill.marisa"
    assert build_fill_index(arpa, out) > 0
    return FillIndex(out)


def test_fill_ranks_words_that_fit_both_neighbours(fill: FillIndex) -> None:
    got = [w for w, _ in fill.fill("the", "assortment", "of")]
    assert got[0] == "number"
    assert "bank" in got
    assert "assortment" not in got, "the spun word itself is never a proposal"


def test_fill_keeps_the_spun_words_part_of_speech(fill: FillIndex) -> None:
    # "rapidly" fits the bigrams but is an adverb; "assortment" is a noun
    assert "rapidly" not in [w for w, _ in fill.fill("the", "assortment", "of")]
    assert fill.fill("the", "of", "cases") == (), "function words are not filled"


def test_predecessor_lists_keep_common_words_not_rarities(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Before "of", the rare "consisting" has the higher conditional P(of | w);
    # the common "number" has the higher joint P(w) P(of | w), and it is the
    # word a spinner replaced. With one slot per list, only the joint keeps it.
    import unspin.candidates.lmfill as lmfill

    arpa = tmp_path / "rare.arpa"
    arpa.write_text(ARPA.replace("ngram 1=9", "ngram 1=10").replace("ngram 2=8", "ngram 2=9")
                    .replace("-2.0\tbank", "-6.0\tconsisting\n-2.0\tbank")
                    .replace("-0.5\trapidly of", "-0.5\trapidly of\n-0.01\tconsisting of"),
                    encoding="utf-8")
    monkeypatch.setattr(lmfill, "KEEP_PER_WORD", 1)
    out = tmp_path / "fill.marisa"
    build_fill_index(arpa, out)
    index = FillIndex(out)
    assert index._neighbours("p", "of") == {"number": pytest.approx(-0.2 * lmfill.LOG10, abs=1e-3)}


def test_lm_channel_grows_with_thesaurus_relatedness() -> None:
    ch = ChannelModel()
    assert ch.lm_fill(0.01) < ch.lm_fill(0.1) < ch.lm_fill(1.0) < 0.0


def test_two_hop_relatedness_keeps_spinner_pairs_and_drops_chance() -> None:
    gen = get_bundle(Config()).generator
    sim, via = gen.related("assortment", "number")
    assert sim > 0.0 and len(via) >= 1
    assert gen.related("dying", "official")[0] == 0.0


def test_lm_proposals_reach_the_output_with_their_source(shared_data: Path) -> None:
    from unspin.evaluation.harness import ensure_ngram

    text = ("The assortment of Covid-19 cases climbed to 2,902 on Saturday while the "
            "dying toll rose to 68, the ministry stated.")
    a = unspin.check(text, ngram_path=str(ensure_ngram()), flag_threshold=0.001)
    sources = {s for span in a.spans for c in span.candidates for s in c.sources}
    assert "lm" in sources
    lm_cands = [c for span in a.spans for c in span.candidates if c.sources == ("lm",)]
    assert all(c.text.strip() for c in lm_cands)
    screen = unspin.check(text, ngram_path=str(ensure_ngram()), flag_threshold=0.001,
                          mode="screen")
    assert all("lm" not in c.sources for s in screen.spans for c in s.candidates)


def test_an_index_of_an_older_layout_is_stale() -> None:
    from unspin.resources.build import INVERSE_FILE, _layout_ok
    from unspin.resources.inverse import LAYOUT

    assert _layout_ok({"files": {INVERSE_FILE: {"layout": LAYOUT}}})
    assert not _layout_ok({"files": {INVERSE_FILE: {"entries": 3}}}), "layout 1 had no field"
    assert not _layout_ok({})


SPUN_TWO_SENTENCES = (
    "The dying toll rose to 68 on Saturday, the ministry stated. Folks who hold "
    "been cured were sent dwelling, whereas the assortment of instances climbed.")


def _lattices(mode: str, text: str) -> Iterator[tuple[SentenceDecoder, list[str],
                                                      list[list[Edge]]]]:
    """The decoder, words and edges (every position examined) of each sentence."""
    from unspin.core import _decoder
    from unspin.decode.lattice import word_view
    from unspin.text import split_sentences, tokenize

    config = Config(mode=mode)
    bundle = get_bundle(config)
    decoder = _decoder(bundle, config)
    for sentence in split_sentences(text, tokenize(text)):
        toks, adjacent, protected = word_view(sentence, bundle.is_common)
        words = [t.norm for t in toks]
        yield decoder, words, decoder.build_edges(words, adjacent, protected, None)


def test_screen_decisions_reuse_pruning_scores_exactly() -> None:
    """Screen mode reads each kept edge's pruning LM score back instead of
    rescoring the window; the decisions must equal those from a rescore."""
    from dataclasses import replace

    seen = 0
    for decoder, words, edges in _lattices("screen", SPUN_TWO_SENTENCES):
        assert any(e.lm is not None for group in edges for e in group[1:])
        bare = [[replace(e, lm=None) for e in group] for group in edges]
        reused, fresh = decoder.local_decisions(words, edges), decoder.local_decisions(words, bare)
        assert [(d.i, d.j, d.chosen.words, d.p_changed) for d in reused] == \
               [(d.i, d.j, d.chosen.words, d.p_changed) for d in fresh]
        seen += len(reused)
    assert seen > 0


def test_reopened_positions_cover_what_the_screen_keeps_and_avoid_taken_spans() -> None:
    """``local_decisions(kept=True)`` is what the accurate tier reopens: every
    examined position, kept or not, as a decision whose ``chosen`` is its best
    substitution; never overlapping a decision already taken."""
    import itertools

    reopened_kept = 0
    for decoder, words, edges in _lattices("full", SPUN_TWO_SENTENCES):
        plain = decoder.local_decisions(words, edges)
        every = decoder.local_decisions(words, edges, kept=True)
        assert {(d.i, d.j) for d in plain} <= {(d.i, d.j) for d in every}
        assert all(d.chosen.proposal is not None for d in every)
        for d in every:
            p_keep = next(a.posterior for a in d.alternatives if a.edge.proposal is None)
            assert abs(d.p_changed - (1.0 - p_keep)) < 1e-9
            reopened_kept += p_keep > 0.5
        spans = sorted((d.i, d.j) for d in every)
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans)), "reopened spans overlap"
        taken = [(d.i, d.j) for d in plain]
        rest = decoder.local_decisions(words, edges, kept=True, taken=taken)
        assert not any(d.i < b and d.j > a for d in rest for a, b in taken)
    assert reopened_kept > 0, "no kept position was reopened"


def test_link_ranking_stops_early_without_changing_the_best_links() -> None:
    """The generator stops reading a key's links once their static rank rules the
    rest out (``_rank_links``); the links it keeps, their order and scores must be
    those of scoring every link, for plain and inflected keys, the screen and full
    budgets, the shipped channel and one whose bound differs."""
    from dataclasses import replace

    from unspin.candidates.generate import PRIOR_WEIGHT, CandidateGenerator
    from unspin.resources.inverse import parse_link

    base = get_bundle(Config()).generator
    assert base.inverse is not None
    keys = ["place", "time", "said", "number", "case", "show", "good", "make", "report",
            "state", "hold", "up to now", "assortment", "qqzzxx"]
    for channel in (base.channel, replace(base.channel, agree_bonus=0.9, reverse_penalty=0.4,
                                          inflect_penalty=-0.3),
                    replace(base.channel, beta=0.3)):
        gen = CandidateGenerator(base.inverse, None, channel, ("moby", "wordnet", "mythes"))
        for key in keys:
            for inflected in (False, True):
                scored = []
                for k, link in enumerate(base.inverse.links(key)):
                    e = parse_link(link)
                    ch = gen._link_channel_of(e.fanout, e.sources, e.reverse_only, inflected)
                    if ch is not None:
                        scored.append((ch + PRIOR_WEIGHT * e.prior, k, e))
                scored.sort(key=lambda t: t[0], reverse=True)
                for limit in (16, 96):
                    scores, entries = gen._rank_links(key, inflected, limit)
                    assert scores == tuple(s for s, _, _ in scored[:limit]), (key, limit)
                    assert entries == tuple(e for _, _, e in scored[:limit])


def test_a_collocation_pairs_two_links_that_the_bigram_table_joins() -> None:
    """Source "collocation": "counterfeit consciousness" is "artificial
    intelligence" spun word by word. The pair is proposed when each word's
    thesaurus links hold one of its words and the LM's bigram table lists them
    together; its channel is the two links' channels, charged as two
    substitutions."""
    gen = get_bundle(Config()).generator
    table = {"artificial": {"intelligence": -2.7}}
    got = gen.propose_pair("counterfeit", "consciousness", lambda w: table.get(w, {}))
    assert [p.text for p in got] == ["artificial intelligence"]
    pair = got[0]
    singles = ({p.text: p.channel for p in gen.propose(("counterfeit",))},
               {p.text: p.channel for p in gen.propose(("consciousness",))})
    assert pair.subs == 2 and pair.words == ("artificial", "intelligence")
    assert pair.channel == pytest.approx(singles[0]["artificial"] + singles[1]["intelligence"])
    assert "collocation" in pair.sources and "log P('intelligence' | 'artificial')" in pair.detail
    # the bigram table decides: without the pair in it, nothing is proposed
    assert gen.propose_pair("counterfeit", "consciousness", lambda w: {}) == ()
    # function words are never read as a collocation
    assert gen.propose_pair("of", "consciousness", lambda w: table.get(w, {})) == ()


def test_collocations_can_be_switched_off() -> None:
    sources = tuple(s for s in Config().sources if s != "collocation")
    gen = get_bundle(Config(sources=sources)).generator
    table = {"artificial": {"intelligence": -2.7}}
    assert gen.propose_pair("counterfeit", "consciousness", lambda w: table.get(w, {})) == ()


def test_a_collocation_edge_only_rescues_what_pruning_dropped() -> None:
    """Where both words of a collocation survive pruning on their own, the beam
    already has its path; the lattice adds the two-word edge only otherwise."""
    text = "Researchers say counterfeit consciousness will change the way doctors work."
    pairs = 0
    for _, _, edges in _lattices("full", text):
        for i, group in enumerate(edges):
            for e in group[1:]:
                if e.proposal is None or e.proposal.subs != 2:
                    continue
                pairs += 1
                assert e.j == i + 2
                first = {f.words[0] for f in group[1:] if f.j == i + 1}
                second = {f.words[0] for f in edges[i + 1][1:] if f.j == i + 2}
                assert not (e.words[0] in first and e.words[1] in second)
    assert pairs > 0, "the default model's bigram table joins 'artificial intelligence'"


@pytest.mark.engine
def test_a_restored_collocation_is_reported_as_its_word_substitutions() -> None:
    """The accurate tier reads "counterfeit consciousness" as one term and
    reports the two substitutions the spinner made, each with its own
    candidates and the collocation's evidence; the edits replay exactly."""
    text = "Researchers say counterfeit consciousness will change the way doctors work."
    a = unspin.check(text, scorer="neural")
    got = [(s.text, s.restored) for s in a.spans]
    assert got == [("counterfeit", "artificial"), ("consciousness", "intelligence")]
    first, second = a.spans
    assert first.end < second.start and first.confidence == second.confidence
    assert first.candidates[0].text == "artificial" and second.candidates[0].text == "intelligence"
    assert any(c.text == "counterfeit" and c.sources == ("spun",) for c in first.candidates)
    # each word's candidate names the links of that word, and the collocation
    gen = get_bundle(Config()).generator
    for span, cand in ((first, first.candidates[0]), (second, second.candidates[0])):
        link = next(p for p in gen.propose((span.text,)) if p.text == cand.text)
        assert cand.sources == (*link.sources, "collocation")
    assert all(len(c.text.split()) == 1 for s in a.spans for c in s.candidates)
    assert any(e.kind == "channel" and e.detail.startswith("collocation: 'artificial "
                                                            "intelligence'")
               for e in first.evidence)
    assert unspin.apply_edits(text, a.edits) == a.restored_text
    assert a.restored_text == ("Researchers say artificial intelligence will change the way "
                               "doctors work.")


@pytest.mark.engine
def test_the_accurate_tier_reads_a_collocation_no_bigram_table_holds(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """"warning shots" is no bigram of the default model, and Moby links "shot"
    to 451 words, so "shots" is not among the 96 links kept for "pictures":
    neither a one-word nor an n-gram collocation proposal holds it. The
    accurate tier reads every original of "pictures" after the likeliest
    originals of "caution" (``decode/rescore.py``, ``_collocations``) and
    restores both words; with that reading switched off, it keeps them."""
    from unspin.decode import rescore

    text = "Police fired caution pictures into the air to disperse the crowd."
    gen = get_bundle(Config()).generator
    assert "shots" not in {p.text for p in gen.propose(("pictures",))}
    assert "shots" in {p.text for p in gen.propose_wide(("pictures",))}
    a = unspin.check(text, scorer="neural")
    assert [(s.text, s.restored) for s in a.spans] == [("caution", "warning"),
                                                       ("pictures", "shots")]
    first, second = a.spans
    assert first.confidence == second.confidence
    assert all("collocation" in s.candidates[0].sources for s in a.spans)
    channel = next(e for e in first.evidence if e.kind == "channel")
    assert channel.detail.startswith("collocation: SmolLM2-135M reads 'shots' after 'warning'")
    neural = next(e for e in first.evidence if e.kind == "neural")
    assert "read with the next words" in neural.detail
    assert unspin.apply_edits(text, a.edits) == a.restored_text
    monkeypatch.setattr(rescore, "COLLOCATIONS", False)
    assert not unspin.check(text, scorer="neural").spans


@pytest.mark.engine
def test_a_collocation_that_replaces_two_decisions_keeps_every_key_in_step(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A two-word decision replaces two one-word ones, so every decision after
    it moves down one place: its features, its span in the neural pass and
    its origin (what ``core`` reads ``nn_reopened`` through) must move with it."""
    from unspin.decode import rescore

    seen: list[tuple[list[Any], list[list[int]], rescore.Rescored]] = []
    real = rescore.rescore

    def spy(text: str, sentences: Any, *args: Any, **kwargs: Any) -> rescore.Rescored:
        got = real(text, sentences, *args, **kwargs)
        seen.append(([toks for toks, _ in sentences], [[d.i for d in ds] for _, ds in sentences],
                     got))
        return got

    monkeypatch.setattr(rescore, "rescore", spy)
    text = ("Police fired caution pictures into the air to disperse the crowd, and the "
            "assortment of injured people rose to twelve by the evening.")
    unspin.check(text, scorer="neural")
    (toks, starts, got), = seen
    assert any(d.j - d.i == 2 for ds in got.decisions for d in ds), "no collocation was read"
    state = got.evidence.state
    assert state is not None
    moved = 0
    for si, ds in enumerate(got.decisions):
        for k, d in enumerate(ds):
            old = got.origin.get((si, k), (si, k))
            moved += old != (si, k)
            assert starts[old[0]][old[1]] == d.i
            if (si, k) not in got.features:
                continue
            # the pass's span for this decision covers its words, no more
            r = state.ranges[got.span_of[(si, k)]]
            assert r is not None
            read = text[state.offsets[r[0]][0] : state.offsets[r[1] - 1][1]]
            assert read.strip() == text[toks[si][d.i].start : toks[si][d.j - 1].end]
            pe = got.evidence.spans[got.span_of[(si, k)]]
            assert pe is not None
            assert got.features[(si, k)]["nn_spun_first"] == pe.spun_first
    assert moved > 0
