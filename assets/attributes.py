"""Attributes of assets and parts, and fitment conditions: flat objects of plain values.

Bodies carry them as any JSON object so that a bad entry is reported by its own key
(`attributes.spring_size`), which a decoder error about a whole object cannot do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from assets.models import MAX_ATTRIBUTE_TEXT, MAX_ATTRIBUTES, AttributeValue
from infra.errors import InvalidError

_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def scalar_attributes(raw: Mapping[str, object], *, field: str) -> dict[str, AttributeValue]:
    if len(raw) > MAX_ATTRIBUTES:
        raise InvalidError(f"{field}: at most {MAX_ATTRIBUTES} keys", field=field)
    checked: dict[str, AttributeValue] = {}
    for key, value in raw.items():
        if not _KEY.match(key):
            name = f"{field}.{key[:64]}"
            raise InvalidError(f"{name}: a key is lower_snake_case, 1 to 64 characters", field=name)
        name = f"{field}.{key}"
        if not isinstance(value, str | int | float | bool):
            raise InvalidError(f"{name}: a value is a string, a number or a boolean", field=name)
        if isinstance(value, str) and len(value) > MAX_ATTRIBUTE_TEXT:
            raise InvalidError(f"{name}: at most {MAX_ATTRIBUTE_TEXT} characters", field=name)
        checked[key] = value
    return checked
