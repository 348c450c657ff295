"""Quantitative risk: joint-failure probability of a stack under named dependence models."""
