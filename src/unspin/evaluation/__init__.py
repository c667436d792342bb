"""Evaluation: datasets, alignment, metrics, baselines and the harness.

Everything here *reads* the research corpora in ``../shared/data`` and never
copies them into the repository or the package. See ``docs/evaluation.md``.
"""
