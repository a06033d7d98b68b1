"""Marketing: admin."""
