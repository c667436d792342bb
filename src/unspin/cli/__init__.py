"""Command-line adapters (thin: they build a Config and call the core)."""
