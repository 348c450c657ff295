"""Readers and writers, one module per external format."""
