"""Exceptions raised at unspin's boundaries.

Each message says what was wrong *and what to do instead*, in one line, so the
CLI can print it verbatim and the service can return it as a 4xx reason.
"""

from __future__ import annotations


class UnspinError(Exception):
    """Base class: every error unspin raises on purpose derives from it."""


class InputError(UnspinError, ValueError):
    """The input text cannot be analysed as given (empty, binary, too large)."""


class ResourceError(UnspinError, RuntimeError):
    """A resource (thesaurus, n-gram table, model) is missing or corrupt."""


class FormatError(UnspinError, ValueError):
    """A file is not in the format its reader expects (JSONL, CSV, WARC, ...)."""
