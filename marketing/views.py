"""Marketing: views."""
