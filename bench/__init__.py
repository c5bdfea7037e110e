"""Benchmarks: a data generator and the bench suite (see BENCHMARKS.md)."""
