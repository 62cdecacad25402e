"""Benchmarks: the threaded pipeline beside a sequential baseline, their plots, and progress bars."""
