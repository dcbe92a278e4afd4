"""Demo dataset: a believable Jamaican business, deterministic for a seed."""

# Five times the largest demo the benchmarks build (1M); more is a typo, not a demo.
MAX_DEMO_CUSTOMERS = 5_000_000
