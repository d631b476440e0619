"""Benchmarks that print figures: `python -m faceaudit.bench.preprocess` and `python -m faceaudit.bench.training`."""
