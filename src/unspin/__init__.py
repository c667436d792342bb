"""unspin: find machine-spun text and restore the original wording.

The public API is a handful of verbs over one immutable :class:`Config`:

>>> import unspin                                          # doctest: +SKIP
>>> a = unspin.check("The assortment of cases rose.")      # doctest: +SKIP
>>> a.spans[0].restored                                    # doctest: +SKIP
'number'

``check`` returns an :class:`Analysis` (score, spans with candidates and
evidence, replayable edits); ``restore`` returns only the restored text;
``restore_and_explain`` returns both; ``apply_edits`` replays edits.

Importing unspin is light: no torch, pyspark, fastapi or spaCy.
"""

from __future__ import annotations

from typing import Any

from unspin.config import Config
from unspin.core import apply_edits
from unspin.errors import FormatError, InputError, ResourceError, UnspinError
from unspin.types import Analysis, Candidate, Edit, Evidence, Span

__version__ = "0.1.0"


def check(text: str, config: Config | None = None, **overrides: Any) -> Analysis:
    """Detect and restore spinning in ``text``; the full explained result."""
    from unspin.config import resolve
    from unspin.core import analyze

    return analyze(text, resolve(config, overrides))


def restore(text: str, config: Config | None = None, **overrides: Any) -> str:
    """Just the restored text."""
    return check(text, config, **overrides).restored_text


def restore_and_explain(
    text: str, config: Config | None = None, **overrides: Any
) -> tuple[str, tuple[Edit, ...]]:
    """The restored text and the edits that produce it from ``text``."""
    a = check(text, config, **overrides)
    return a.restored_text, a.edits


__all__ = [
    "Analysis",
    "Candidate",
    "Config",
    "Edit",
    "Evidence",
    "FormatError",
    "InputError",
    "ResourceError",
    "Span",
    "UnspinError",
    "__version__",
    "apply_edits",
    "check",
    "restore",
    "restore_and_explain",
]
