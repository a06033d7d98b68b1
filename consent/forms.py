"""Consent: forms."""
