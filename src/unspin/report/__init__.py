"""Where output is formatted: terminal, JSON and HTML views of analyses."""
