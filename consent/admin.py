"""Consent: admin."""
