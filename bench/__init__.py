"""Benchmarks: each module prints a table and one JSON line, comparing side by side in one run."""
