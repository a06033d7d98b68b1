"""Marketing: selectors."""
