"""Opportunities: forms."""
