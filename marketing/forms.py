"""Marketing: forms."""
