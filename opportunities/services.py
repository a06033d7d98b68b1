"""Opportunities: services."""
