"""Consent: views."""
