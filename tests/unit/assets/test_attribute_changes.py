"""Which attributes a change touches, one rule per test."""

from __future__ import annotations

from assets.attribute_history import changed_keys
from assets.models import AttributeValue


def test_a_key_added_changed_or_removed_is_a_change_and_an_equal_one_is_not() -> None:
    before: dict[str, AttributeValue] = {"springs": 2, "spring_size": "218", "insulated": True}
    after: dict[str, AttributeValue] = {"springs": 2, "spring_size": "225", "weight_lb": 150}
    assert changed_keys(before, after) == [("insulated", None), ("spring_size", "225"), ("weight_lb", 150)]


def test_a_value_of_another_type_is_a_change_though_python_calls_them_equal() -> None:
    # A fitment condition compares jsonb, where 1 is not true and 218 is not "218".
    assert changed_keys(
        {"rain_sensor": 1, "spring_size": 218}, {"rain_sensor": True, "spring_size": 218}
    ) == [("rain_sensor", True)]
