"""Benchmarks (not part of the test run): ``python -m bench``; see ``bench/run.py``."""
