"""Spinner simulator: turns clean text into spun text with exact ground truth.

This package is a *data generator* for evaluation and tests. The restorer must
never import it (its phrase table would leak the answers); a test enforces
that. See ``docs/evaluation.md``.
"""

from unspin.simulate.profiles import PROFILES, Profile, get_profile
from unspin.simulate.spinner import SpunDoc, Sub, spin

__all__ = ["PROFILES", "Profile", "SpunDoc", "Sub", "get_profile", "spin"]
