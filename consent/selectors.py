"""Consent: selectors."""
