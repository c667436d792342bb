"""Input: read files and streams into text, reject bad input with a reason."""
