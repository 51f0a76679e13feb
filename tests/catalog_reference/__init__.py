"""What the catalog was before it was written out in Python: the oracle the pages must equal."""
