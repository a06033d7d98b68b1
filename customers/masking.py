"""Display masking of personal financial information (JR/T 0171-2020 style).

The one place where the patterns live; docs/security.md documents them and tests/customers/test_masking.py pins
them. Lists, pages, exports and admin show only masked values; a full value is shown only after a logged reveal.

| what | pattern | example |
|---|---|---|
| mobile | first 3 + last 4 | 138****5678 |
| card / account number | first 6 + last 4 | 622202******1234 |
| resident ID (and other ID documents) | first 3 + last 4 (shorter documents: first 1 + last 2) | 110***********1234 |
| another person's name in exports | surname + * | 张* |
"""


def _mask(value: str, head: int, tail: int) -> str:
    if not value:
        return ""
    if len(value) <= head + tail:
        return "*" * len(value)
    return value[:head] + "*" * (len(value) - head - tail) + value[-tail:]


def mask_mobile(value: str) -> str:
    return _mask(value, 3, 4)


def mask_account(value: str) -> str:
    return _mask(value, 6, 4)


def mask_id_number(value: str) -> str:
    if len(value) >= 15:
        return _mask(value, 3, 4)
    return _mask(value, 1, 2)


def mask_name(value: str) -> str:
    """Surname plus one star: 张* for 张三丰. Compound surnames are not detected (the first character is kept)."""
    if not value:
        return ""
    return value[0] + "*"


def _compact(term: str) -> str:
    """The term without the spaces, hyphens and a leading +86 people type in numbers (138-0013-8000)."""
    term = "".join(term.split()).replace("-", "")
    return term[3:] if term.startswith("+86") else term


def looks_sensitive(term: str) -> bool:
    """Whether a search term looks like a mobile, ID or account number (and must be masked in logs)."""
    term = _compact(term)
    digits = term.replace("X", "").replace("x", "")
    return digits.isdigit() and len(term) >= 7


def mask_search_term(term: str) -> str:
    """A search term as it may be written to a log: a number-like term is masked by the pattern it matches."""
    if not looks_sensitive(term):
        return term
    term = _compact(term)
    if len(term) == 11:
        return mask_mobile(term)
    return mask_id_number(term)
