"""Benchmarks at region scale (issue 9): ``bench/run`` runs them, ``tests/test_bench.py`` keeps them from rotting.

Benchmarks are not tests: each one times the product against a reference doing the same work with no product
logic, in the same run (interleaved where practical, because a shared machine's speed moves), and reports the
ratio against the issue's goal together with each side's peak memory.
"""
