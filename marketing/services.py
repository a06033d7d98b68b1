"""Marketing: services."""
