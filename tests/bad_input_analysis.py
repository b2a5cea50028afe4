"""Hostile-input table (tests/hostile.py) for the analysis group of rnnlib modules; see tests/test_bad_input.py."""

TARGETS = []
EXEMPT = {}
