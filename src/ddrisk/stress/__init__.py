"""Empirical correlated stress testing of real safety layers."""
