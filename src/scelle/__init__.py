"""Scellé: zero-knowledge file exchange for health data."""

__version__ = "0.1.0"
