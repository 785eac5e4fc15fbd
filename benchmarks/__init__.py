"""Benchmarks: offline recommender quality, serving latency, and the assistant under load (``load.py``)."""
