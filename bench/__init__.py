"""Benchmarks: each `bench/*.py` script prints its figures as ratios to a baseline measured in
the same run. `python -m bench` (or `make bench`) runs them all; `python -m bench NAME` runs one."""
