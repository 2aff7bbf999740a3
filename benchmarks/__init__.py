"""Benchmarks of presales-sim against bare SimPy and Ciw models (see run.py)."""
