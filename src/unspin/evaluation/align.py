"""Alignment for the harness: the core's implementation (``unspin.text.align``).

Kept as a module so evaluation code reads ``evaluation.align``; there is one
aligner in the project.
"""

from unspin.text.align import MAX_SUB_TOKENS, AlignedSub, Alignment, Gap, align, align_tokens

__all__ = ["MAX_SUB_TOKENS", "AlignedSub", "Alignment", "Gap", "align", "align_tokens"]
