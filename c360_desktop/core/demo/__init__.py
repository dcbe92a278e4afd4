"""Demo dataset: a believable Jamaican business, deterministic for a seed."""
