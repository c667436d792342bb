"""Learned substitution tables: the spinner's idioms that no thesaurus holds.

"international locations" -> "countries", "give a boost to" -> "support",
"talked about" -> "said" come from aligning spun texts with their sources.
A table is a small versioned TSV (human-reviewable, diff-friendly)::

    # unspin.learned/1
    # source: <where the pairs came from>
    original<TAB>spun<TAB>count<TAB>docs<TAB>first_seen<TAB>last_seen<TAB>status

``status`` is ``accepted`` or ``proposed``; the channel uses both but says
which in its evidence, and ``unspin learn --export-review`` writes the
proposed ones for a human. Keys are lower case.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from unspin.errors import FormatError
from unspin.text.align import align_substitutions
from unspin.text.tokenize import words

LEARNED_FORMAT = "unspin.learned/1"


@dataclass
class LearnedPair:
    original: str
    spun: str
    count: int = 0
    docs: int = 0
    first_seen: str = ""
    last_seen: str = ""
    status: str = "proposed"


@dataclass
class LearnedTable:
    source: str = ""
    pairs: dict[tuple[str, str], LearnedPair] = field(default_factory=dict)

    def add(self, original: str, spun: str, count: int = 1, docs: int = 1,
            when: str | None = None, status: str = "proposed") -> None:
        day = when or _dt.date.today().isoformat()
        key = (original, spun)
        got = self.pairs.get(key)
        if got is None:
            self.pairs[key] = LearnedPair(original, spun, count, docs, day, day, status)
            return
        got.count += count
        got.docs += docs
        got.first_seen = min(got.first_seen, day)
        got.last_seen = max(got.last_seen, day)
        if status == "accepted":
            got.status = "accepted"

    def merge(self, other: LearnedTable) -> None:
        for p in other.pairs.values():
            self.add(p.original, p.spun, p.count, p.docs, p.first_seen, p.status)
            self.pairs[(p.original, p.spun)].last_seen = max(
                self.pairs[(p.original, p.spun)].last_seen, p.last_seen
            )

    def by_spun(self) -> dict[str, list[LearnedPair]]:
        out: dict[str, list[LearnedPair]] = {}
        for p in self.pairs.values():
            out.setdefault(p.spun, []).append(p)
        return out

    def save(self, path: str | Path) -> Path:
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        lines = [f"# {LEARNED_FORMAT}", f"# source: {self.source}",
                 "original\tspun\tcount\tdocs\tfirst_seen\tlast_seen\tstatus"]
        for p in sorted(self.pairs.values(), key=lambda p: (-p.count, p.original, p.spun)):
            lines.append(f"{p.original}\t{p.spun}\t{p.count}\t{p.docs}\t{p.first_seen}\t"
                         f"{p.last_seen}\t{p.status}")
        tmp = out.with_suffix(out.suffix + ".tmp")
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
        tmp.replace(out)
        return out

    @classmethod
    def load(cls, path: str | Path) -> LearnedTable:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise FormatError(f"cannot read learned table {p}: {exc}") from None
        lines = text.splitlines()
        if not lines or lines[0].strip() != f"# {LEARNED_FORMAT}":
            raise FormatError(
                f"{p} is not a learned table (first line must be '# {LEARNED_FORMAT}'); "
                "create one with `unspin learn --pairs FILE.jsonl`"
            )
        table = cls()
        for n, line in enumerate(lines[1:], start=2):
            if line.startswith("# source:"):
                table.source = line.partition(":")[2].strip()
                continue
            if not line.strip() or line.startswith("#") or line.startswith("original\t"):
                continue
            cols = line.split("\t")
            if len(cols) != 7:
                raise FormatError(f"{p}:{n}: expected 7 tab-separated columns, got {len(cols)}")
            try:
                count, docs = int(cols[2]), int(cols[3])
            except ValueError:
                raise FormatError(f"{p}:{n}: count and docs must be integers") from None
            table.pairs[(cols[0], cols[1])] = LearnedPair(cols[0], cols[1], count, docs,
                                                          cols[4], cols[5], cols[6])
        return table


def read_pairs_jsonl(text: str, name: str = "pairs") -> list[tuple[str, str]]:
    """(spun, original) pairs from JSON lines with ``spun_text`` and ``original_text``."""
    import json

    rows: list[tuple[str, str]] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            rows.append((str(obj["spun_text"]), str(obj["original_text"])))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise FormatError(
                f"{name}:{n}: each line must be a JSON object with spun_text and original_text "
                f"({type(exc).__name__})"
            ) from None
    return rows


def learn_from_pairs(pairs: Iterable[tuple[str, str]], source: str = "",
                     max_tokens: int = 4, when: str | None = None) -> LearnedTable:
    """Align each (spun, original) pair and count the substitutions found.

    Pairs whose two sides differ only in case or punctuation are skipped, as
    are substitutions that change a number (spinners keep numbers; a number
    difference is an editing difference between copies, not spinning).
    """
    table = LearnedTable(source=source)
    for spun, original in pairs:
        subs, _ = align_substitutions(spun, original, max_tokens=max_tokens)
        seen: set[tuple[str, str]] = set()
        for s in subs:
            o_words = words(s.original)
            s_words = words(s.spun)
            if any(w[:1].isdigit() for w in o_words + s_words):
                continue
            key = (" ".join(w for w in o_words if w[:1].isalnum()),
                   " ".join(w for w in s_words if w[:1].isalnum()))
            if not key[0] or not key[1] or key[0] == key[1]:
                continue
            table.add(key[0], key[1], 1, 0 if key in seen else 1, when)
            seen.add(key)
    return table
