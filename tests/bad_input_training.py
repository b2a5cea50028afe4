"""Hostile-input table (tests/hostile.py) for the training group of rnnlib modules; see tests/test_bad_input.py."""

TARGETS = []
EXEMPT = {}
