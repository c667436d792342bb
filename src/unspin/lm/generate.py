"""A corpus written by the shipped neural LM, for an n-gram model that may ship.

The default n-gram model is Norvig's web unigram and bigram counts: general,
but sparse for collocations ("security council", "warning shots" are not in
its bigram list), so the fast tiers find few substitutions out of the box.
Nothing built from the evaluation corpora may ship, and no permissively
licensed English corpus larger than Norvig's installs from the package
registries. The one remaining source is text the shipped model writes itself
(SmolLM2-135M-Instruct, Apache-2.0): prose with invented facts, but English
word order and collocations, which is what an n-gram model of word order
needs. ``unspin lm generate`` writes it; ``unspin lm build`` turns it into a
model.

Prompts pair a genre (news report, research abstract, explainer, ...) with a
topic, both drawn per record from a seeded generator, so a record is a pure
function of its index, the seed and the batch it was generated in. The
corpus is written whole batches at a time and a run resumes after the last
complete batch: an interrupted run, resumed with the same settings, writes
exactly the records an uninterrupted one would.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from unspin.errors import InputError

if TYPE_CHECKING:
    from unspin.lm.neural import NeuralLM

SCHEMA = "unspin.generated/1"

#: (genre, instruction); ``{topic}`` is filled in. News and research prose are
#: what the tool reads most, the rest keeps general English in the mix.
GENRES: tuple[tuple[str, str], ...] = (
    ("news", "Write a news report about {topic}."),
    ("news", "Write a short wire-service news story about {topic}, with quotes from officials."),
    ("feature", "Write a newspaper feature article about {topic}."),
    ("abstract", "Write the abstract of a research paper about {topic}."),
    ("methods", "Write the methods section of a scientific study on {topic}."),
    ("explainer", "Explain {topic} to a general reader in a few paragraphs."),
    ("press", "Write a press release about {topic}."),
    ("encyclopedia", "Write an encyclopedia entry about {topic}."),
)

#: Subjects of news copy; each is combined with a place or stands alone.
NEWS_SUBJECTS: tuple[str, ...] = (
    "a general election", "a parliamentary vote on the budget", "a trade agreement",
    "tariffs on steel imports", "a central bank interest rate decision", "rising inflation",
    "unemployment figures", "a strike by transport workers", "a corporate merger",
    "quarterly company earnings", "oil prices", "natural gas supplies", "a stock market fall",
    "the price of wheat", "coffee exports", "a drought affecting farmers",
    "flooding after heavy rain",
    "a wildfire", "an earthquake", "a hurricane", "a heatwave", "air pollution",
    "a new hospital", "a vaccine trial", "an outbreak of a virus", "a shortage of nurses",
    "cancer research funding", "a court ruling on free speech", "a corruption trial",
    "a police investigation into fraud", "a prison reform bill", "a border dispute",
    "peace talks", "a ceasefire", "a refugee crisis", "a military exercise",
    "a cyber attack on a bank", "a data breach", "a new smartphone",
    "electric cars", "a railway project", "airline delays", "a shipping accident",
    "a football championship", "a tennis tournament", "the Olympic Games", "a cricket match",
    "a film festival", "a music award ceremony", "a museum exhibition", "a best-selling novel",
    "school exam results", "university tuition fees", "housing prices", "a rent freeze",
    "a tax cut", "pension reform", "a minimum wage increase", "a bank bailout",
    "a currency crisis", "foreign investment", "a mining company", "renewable energy projects",
    "a nuclear power plant", "a climate summit", "endangered wildlife", "a space launch",
    "a satellite mission", "a medical breakthrough", "a food safety recall", "a protest march",
    "a royal visit", "a presidential speech", "a diplomatic row", "sanctions against a government",
    "an aid programme", "a famine", "a public health campaign", "a hospital waiting list",
    "a drug price dispute", "a labour union negotiation", "a factory closure", "a new airport",
    "a road safety campaign", "a city council decision", "a local election", "a charity appeal",
)

PLACES: tuple[str, ...] = (
    "Britain", "the United States", "France", "Germany", "Japan", "China", "India", "Brazil",
    "Nigeria", "South Africa", "Kenya", "Egypt", "Australia", "Canada", "Mexico", "Argentina",
    "Russia", "Turkey", "Indonesia", "Pakistan", "Italy", "Spain", "Poland", "Sweden",
    "South Korea", "Vietnam", "the Philippines", "Saudi Arabia", "Iran", "Israel",
    "New Zealand", "Chile", "Colombia", "Ireland", "Scotland", "Wales", "London", "New York",
    "Tokyo", "Paris", "Berlin", "Mumbai", "Lagos", "Sydney", "Toronto", "Chicago",
    "Hong Kong", "Singapore", "the European Union", "West Africa", "the Middle East",
)

#: Subjects of research prose (paper mills work in these fields most).
SCIENCE_SUBJECTS: tuple[str, ...] = (
    "image classification", "large-scale data analysis", "ensemble classifiers",
    "support vector machines", "convolutional neural networks", "natural language processing",
    "computer-aided diagnosis", "reinforcement learning", "wireless sensor networks",
    "cloud computing security", "the Internet of Things", "blockchain technology",
    "signal processing", "image segmentation", "speech recognition", "data mining",
    "network intrusion detection", "energy-efficient routing", "5G mobile networks",
    "software testing", "database query optimisation", "computer vision", "robotics",
    "solar cells", "lithium-ion batteries", "fuel cells", "wind turbines", "smart grids",
    "concrete strength", "steel corrosion", "composite materials", "nanoparticles",
    "drug delivery", "gene expression", "breast cancer diagnosis", "diabetes management",
    "heart disease risk factors", "antibiotic resistance", "clinical trials",
    "mental health in adolescents", "public health surveillance", "vaccination uptake",
    "water treatment", "soil erosion", "crop yields", "climate change adaptation",
    "air quality monitoring", "supply chain management", "consumer behaviour",
    "financial risk management", "economic growth", "monetary policy", "educational outcomes",
    "online learning", "urban planning", "traffic flow prediction", "structural engineering",
    "heat transfer", "fluid dynamics", "protein folding", "stem cells", "microbiology",
    "organic chemistry", "polymer synthesis", "catalysis", "optical fibres", "quantum computing",
    "cryptography", "face recognition", "anomaly detection", "time series forecasting",
)


@dataclass(frozen=True)
class GenerationSettings:
    """Everything a record depends on besides its index (kept in each record)."""

    seed: int = 0
    batch: int = 64
    max_new_tokens: int = 256
    temperature: float = 0.9
    top_k: int = 64
    top_p: float = 0.95


@dataclass(frozen=True)
class GenerationResult:
    path: str
    records: int  # in the file when the run ended
    new_records: int
    new_tokens: int
    seconds: float


def prompt_for(index: int, seed: int) -> tuple[str, str]:
    """The (genre, instruction) of record ``index``: a pure function of both."""
    rng = random.Random(f"unspin-generate:{seed}:{index}")
    genre, template = rng.choice(GENRES)
    if genre in ("abstract", "methods") or (genre in ("explainer", "encyclopedia")
                                            and rng.random() < 0.5):
        topic = rng.choice(SCIENCE_SUBJECTS)
    else:
        topic = rng.choice(NEWS_SUBJECTS)
        if rng.random() < 0.7:
            topic = f"{topic} in {rng.choice(PLACES)}"
    return genre, template.format(topic=topic)


def chat(instruction: str) -> str:
    """The model's chat template around one user turn."""
    return (f"<|im_start|>system\nYou are a helpful writer.<|im_end|>\n"
            f"<|im_start|>user\n{instruction}<|im_end|>\n<|im_start|>assistant\n")


_SENTENCE_END = re.compile(r"[.!?][\"')\]]?(?=\s|$)")


def clean_text(text: str, finished: bool) -> str:
    """The generated text, cut after its last full sentence when the token
    budget stopped it mid-sentence (a broken last sentence teaches the n-gram
    model a false sentence end)."""
    text = text.strip()
    if not finished:
        ends = list(_SENTENCE_END.finditer(text))
        text = text[: ends[-1].end()] if ends else ""
    return text.strip()


def _resume_point(path: Path, settings: GenerationSettings) -> int:
    """How many records ``path`` already holds (where this run goes on).

    A torn last line (an interrupted write) is cut off. A file this command
    did not write, or wrote with other settings, is refused rather than
    mixed into.
    """
    if not path.exists():
        return 0
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        cut = data.rfind(b"\n") + 1
        with path.open("r+b") as fh:
            fh.truncate(cut)
        data = data[:cut]
    count = data.count(b"\n")
    if not count:
        return 0
    first = json.loads(data[: data.index(b"\n")])
    last = json.loads(data.rstrip(b"\n").rsplit(b"\n", 1)[-1])
    if first.get("schema") != SCHEMA or last.get("schema") != SCHEMA:
        raise InputError(f"{path} is not a corpus written by `unspin lm generate`")
    if first.get("settings") != asdict(settings):
        raise InputError(
            f"{path} was generated with {first.get('settings')}, not {asdict(settings)}; "
            "write to a new file or pass the same settings")
    if count % settings.batch:
        raise InputError(f"{path} holds {count} records, not whole batches of "
                         f"{settings.batch}; it was not written by this command")
    return count


def generate_corpus(out: str | Path, tokens: int, settings: GenerationSettings | None = None,
                    *, lm: NeuralLM | None = None, threads: int | None = None,
                    progress: Callable[[int, int], None] | None = None) -> GenerationResult:
    """Append records to ``out`` until this run has generated ``tokens`` tokens.

    Resumes after the last complete batch already in the file (records are
    written a batch at a time, so their count says where to go on). Settings
    must match the file's; a mismatch is refused rather than mixed in.
    """
    settings = settings or GenerationSettings()
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    done = _resume_point(path, settings)
    if lm is None:
        from unspin.lm.neural import get_neural_lm

        lm = get_neural_lm()
    if threads:
        import torch  # loaded with the model above

        torch.set_num_threads(threads)
    start = time.perf_counter()
    new_tokens = new_records = 0
    index = done
    with path.open("a", encoding="utf-8") as fh:
        while new_tokens < tokens:
            batch = list(range(index, index + settings.batch))
            prompts = [prompt_for(i, settings.seed) for i in batch]
            texts, used, finished = lm.sample(
                [chat(p) for _, p in prompts], max_new_tokens=settings.max_new_tokens,
                temperature=settings.temperature, top_k=settings.top_k, top_p=settings.top_p,
                seed=settings.seed * 1_000_003 + index)
            lines = []
            for i, (genre, prompt), text, fin in zip(batch, prompts, texts, finished,
                                                    strict=True):
                lines.append(json.dumps({
                    "schema": SCHEMA, "id": f"gen-{i:07d}", "genre": genre, "prompt": prompt,
                    "text": clean_text(text, fin), "settings": asdict(settings),
                    "model": Path(lm.source).name}, ensure_ascii=False))
            fh.write("\n".join(lines) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
            index += settings.batch
            new_records += settings.batch
            new_tokens += used
            if progress is not None:
                progress(new_tokens, index)
    return GenerationResult(str(path), index, new_records, new_tokens,
                            time.perf_counter() - start)

