"""factory_boy factories. Objects are created through the services, as the application creates them."""

import factory

from relationships import services
from relationships.models import Branch, Staff

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
        return services.branch_create(actor=None, **kwargs)


class StaffFactory(factory.Factory):
    class Meta:
        model = Staff

    username = factory.Sequence(lambda n: f"user{n}")
    password = TEST_PASSWORD
    employee_no = factory.Sequence(lambda n: f"E{n:06d}")
    name = factory.Sequence(lambda n: f"员工{n}")
    branch = factory.SubFactory(BranchFactory)
    role = Staff.Role.RM

    @classmethod
    def _create(cls, model_class, **kwargs):
        return services.staff_create(actor=None, **kwargs)
