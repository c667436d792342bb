"""Language models: n-gram (fast tier) and neural (accurate tier)."""
