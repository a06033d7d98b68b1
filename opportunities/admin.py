"""Opportunities: admin."""
