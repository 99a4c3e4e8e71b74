"""Benchmarks: each module here (bar helpers) measures one thing and prints one JSON line."""
