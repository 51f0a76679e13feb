"""Importers: another tool's flag definitions in, flagops flag files out (pure functions)."""
