from dataclasses import dataclass

import pytest

from customers.models import Customer
from tests.factories import CorporateCustomerFactory, CustomerFactory


@dataclass
class Book:
    """Customers spread over the test organisation (see tests/conftest.py)."""

    west: Customer  # rm_west, 西一网点
    west2: Customer  # rm_west2, 西二网点
    east: Customer  # rm_east, 东一网点
    corporate: Customer  # rm_west, corporate


@pytest.fixture
def book(org) -> Book:
    return Book(
        west=CustomerFactory(
            primary_rm=org.rm_west, name="王西甲", mobile="13800138000", id_number="11010519491231002X"
        ),
        west2=CustomerFactory(primary_rm=org.rm_west2, name="李西乙"),
        east=CustomerFactory(primary_rm=org.rm_east, name="赵东丙"),
        corporate=CorporateCustomerFactory(primary_rm=org.rm_west, name="杭州测试科技有限公司"),
    )
