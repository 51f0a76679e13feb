"""Sync: make a live engine's flags match the repository's state for one environment."""
