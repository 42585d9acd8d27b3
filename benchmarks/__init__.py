"""Benchmarks of dealerbot, run by `make bench`; each prints its figures."""
