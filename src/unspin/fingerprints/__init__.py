"""Fingerprint lists: known tortured phrases as search queries.

The Problematic Paper Screener (PPS) publishes its fingerprints as queries
(``"brain organization" AND "neural network"``), with the phrase they stand
for and a paper count. This package

* parses that grammar into a typed AST and evaluates it on folded text
  (:mod:`~unspin.fingerprints.grammar`, :mod:`~unspin.fingerprints.document`),
* matches thousands of queries per document with an Aho-Corasick gate
  (:mod:`~unspin.fingerprints.matcher`),
* stores named lists with provenance and turns simple ones into channel
  evidence for the restorer (:mod:`~unspin.fingerprints.store`),
* detects spinner boilerplate and leaked original words
  (:mod:`~unspin.fingerprints.signatures`).

unspin ships no third-party list; import one with
``unspin fingerprints import FILE.csv``.
"""

from __future__ import annotations

from unspin.fingerprints.grammar import ClauseMatch, evaluate, occurs, parse
from unspin.fingerprints.matcher import FingerprintHit, FingerprintMatcher, scan
from unspin.fingerprints.store import (
    Fingerprint,
    FingerprintSet,
    ImportFailure,
    ImportReport,
    channel_pairs,
    fingerprints_dir,
    import_pps_csv,
    load_set,
    load_sets,
    save_set,
    write_pps_csv,
)

__all__ = [
    "ClauseMatch",
    "Fingerprint",
    "FingerprintHit",
    "FingerprintMatcher",
    "FingerprintSet",
    "ImportFailure",
    "ImportReport",
    "channel_pairs",
    "evaluate",
    "fingerprints_dir",
    "import_pps_csv",
    "load_set",
    "load_sets",
    "occurs",
    "parse",
    "save_set",
    "scan",
    "write_pps_csv",
]
