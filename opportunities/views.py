"""Opportunities: views."""
