"""Console pages, one module per page; each view is thin and calls what the matching CLI command calls."""
