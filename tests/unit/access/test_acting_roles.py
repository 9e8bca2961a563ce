from __future__ import annotations

from uuid import uuid4

from dispatch.access.accounts import (
    LOGIN_ROLES,
    SYSTEM,
    Principal,
    Role,
    audit_name,
    customer_of,
    may_act_on_job,
)

MINE, OTHER = uuid4(), uuid4()


def test_a_customer_acts_on_the_job_of_their_link_and_no_other() -> None:
    customer = customer_of(MINE)
    assert may_act_on_job(customer, MINE)
    assert not may_act_on_job(customer, OTHER)


def test_a_customer_principal_without_a_job_acts_on_none() -> None:
    nobody = Principal(user_id=uuid4(), role=Role.CUSTOMER)
    assert not may_act_on_job(nobody, MINE)


def test_the_system_and_staff_are_held_to_their_jobs_by_the_queries_not_here() -> None:
    assert may_act_on_job(SYSTEM, OTHER)
    assert may_act_on_job(Principal(user_id=uuid4(), role=Role.DISPATCHER), OTHER)


def test_the_audit_trail_names_the_customer_and_the_system_and_leaves_users_to_their_email() -> None:
    assert audit_name(customer_of(MINE)) == "customer (tracking link)"
    assert audit_name(SYSTEM) == "system"
    assert audit_name(Principal(user_id=uuid4(), role=Role.ADMIN)) is None
    assert audit_name(None) is None


def test_neither_the_customer_nor_the_system_is_a_login_role() -> None:
    assert Role.CUSTOMER not in LOGIN_ROLES
    assert Role.SYSTEM not in LOGIN_ROLES
    assert {Role.ADMIN, Role.DISPATCHER, Role.TECHNICIAN} == LOGIN_ROLES
