"""Benchmarks for airflow-movielens: server, hook, operator and load, each next to a baseline.

Run ``python -m bench`` (full, manual, results committed under ``bench/results/``) or
``python -m bench --quick`` (small sizes, seconds; CI runs it to keep this code working).
See ``bench/README.md`` for what each figure means.
"""
