"""Where candidates come from: inverse thesauri, learned tables, fingerprints."""
