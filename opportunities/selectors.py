"""Opportunities: selectors."""
