"""Shared fixtures.

Tests use the resource cache built by the README's setup command
(``unspin resources build``); if it is missing, the first test that needs it
builds it (about a minute). Tests that need ``../shared/data`` fail loudly
when it is absent instead of skipping.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("UNSPIN_DATA_DIR", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED / "dev" / "real_pairs").is_dir():
        raise FileNotFoundError(
            f"../shared/data not found at {SHARED}: set UNSPIN_DATA_DIR to its location"
        )
    return SHARED


@pytest.fixture(scope="session")
def unspin_cli() -> list[str]:
    return [sys.executable, "-m", "unspin.cli.main"]
