"""Decoding: channel model, lattice search, posteriors and the document score."""
