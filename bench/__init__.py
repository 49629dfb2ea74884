"""Benchmarks for crisisbot: ``python -m bench`` (see docs/benchmarks.md)."""
