"""Submission keys: a form posted twice (a double tap, a retry on a flaky network) creates its record once.

Ground floor, beside the ``crm_site`` infrastructure: it knows no app above it. See docs/architecture.md,
"Double submits"."""
