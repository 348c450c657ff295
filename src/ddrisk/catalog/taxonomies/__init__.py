"""Pinned external taxonomies and SSSOM mapping sets (package data)."""
