"""Aggregates: one module each."""
