"""The masking patterns (customers/masking.py, documented in docs/security.md)."""

import pytest

from customers import masking


@pytest.mark.parametrize(
    ("fn", "value", "masked"),
    [
        (masking.mask_mobile, "13812345678", "138****5678"),
        (masking.mask_account, "6222021234567891234", "622202*********1234"),
        (masking.mask_account, "6222020000001234", "622202******1234"),
        (masking.mask_id_number, "11010519491231002X", "110***********002X"),
        (masking.mask_id_number, "110105194912310021", "110***********0021"),
        (masking.mask_id_number, "E12345678", "E******78"),
        (masking.mask_name, "张三丰", "张*"),
        (masking.mask_mobile, "", ""),
        (masking.mask_mobile, "123", "***"),
    ],
)
def test_patterns(fn, value, masked):
    assert fn(value) == masked


def test_sensitive_search_terms_are_recognised():
    assert masking.looks_sensitive("13812345678")
    assert masking.looks_sensitive("11010519491231002X")
    assert not masking.looks_sensitive("张三")
    assert not masking.looks_sensitive("1234")


@pytest.mark.parametrize(
    ("term", "logged"),
    [
        ("13800138000", "138****8000"),
        ("138-0013-8000", "138****8000"),  # as people type it
        ("138 0013 8000", "138****8000"),
        ("+86 138 0013 8000", "138****8000"),
        ("11010519491231002X", "110***********002X"),
        ("王西", "王西"),
    ],
)
def test_a_search_term_is_masked_before_it_is_logged(term, logged):
    assert masking.mask_search_term(term) == logged
