"""factory_boy factories. Objects are created through the services, as the application creates them."""

import random
from decimal import Decimal

import factory

from customers import services as customer_services
from customers.models import Customer, Product
from demo import customers as demo
from organisation import services as org_services
from organisation.access import SYSTEM
from organisation.models import Branch, Staff

TEST_PASSWORD = "Test-password-2026"


class BranchFactory(factory.Factory):
    class Meta:
        model = Branch

    code = factory.Sequence(lambda n: f"T{n:06d}")
    name = factory.Sequence(lambda n: f"测试机构{n}")
    level = Branch.Level.BRANCH
    parent = None

    @classmethod
    def _create(cls, model_class, **kwargs):
        return org_services.branch_create(actor=SYSTEM, **kwargs)


class StaffFactory(factory.Factory):
    class Meta:
        model = Staff

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@bank.test")
    password = TEST_PASSWORD
    employee_no = factory.Sequence(lambda n: f"E{n:06d}")
    name = factory.Sequence(lambda n: f"员工{n}")
    branch = factory.SubFactory(BranchFactory)
    role = Staff.Role.RM

    @classmethod
    def _create(cls, model_class, **kwargs):
        return org_services.staff_create(actor=SYSTEM, **kwargs)


class CustomerFactory(factory.Factory):
    """An individual customer of ``primary_rm`` (default: a new RM), with a valid resident ID and mobile."""

    class Meta:
        model = Customer

    kind = Customer.Kind.INDIVIDUAL
    name = factory.Sequence(lambda n: f"客户{n:04d}")
    primary_rm = factory.SubFactory(StaffFactory)
    branch = factory.LazyAttribute(lambda o: o.primary_rm.branch if o.primary_rm else None)
    id_type = Customer.IdType.RESIDENT_ID
    id_number = factory.Sequence(lambda n: demo.resident_id(500_000 + n, random.Random(n))[0])
    mobile = factory.Sequence(lambda n: demo.mobile(700_000 + n))
    aum = Decimal("10000.00")

    @classmethod
    def _create(cls, model_class, **kwargs):
        kind = kwargs["kind"]
        if kind == Customer.Kind.CORPORATE:
            for key in ("id_type", "id_number"):
                kwargs.pop(key, None)
        return customer_services.customer_create(actor=SYSTEM, **kwargs)


class CorporateCustomerFactory(CustomerFactory):
    kind = Customer.Kind.CORPORATE
    name = factory.Sequence(lambda n: f"测试企业{n:04d}有限公司")
    credit_code = factory.Sequence(lambda n: demo.credit_code(900_000 + n))


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"P{n:05d}")
    name = factory.Sequence(lambda n: f"产品{n}")
    category = Product.Category.WEALTH
    risk_level = "R2"
    term_days = 180
