"""Consent: services."""
