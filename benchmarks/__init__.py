"""Benchmarks: the DuckDB reference pipeline and the in-process timing scripts of each engine."""
