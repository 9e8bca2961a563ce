"""A time without an offset is refused with 400 naming the field, wherever the API takes a time.

The operations are read from the OpenAPI document, so a route added later is covered too: every
query, path and body field documented as a date-time is sent `2026-11-01T00:00:00`, alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

from litestar import Litestar
from litestar.testing import AsyncTestClient

from dispatch.access.accounts import Role
from tests.conftest import Auth, mint_token

Client = AsyncTestClient[Litestar]
NAIVE = "2026-11-01T00:00:00"


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _is_time(document: dict[str, Any], schema: dict[str, Any]) -> bool:
    schema = _resolve(document, schema)
    return schema.get("format") == "date-time" or any(
        _is_time(document, s) for s in schema.get("oneOf", []) + schema.get("anyOf", [])
    )


def _time_bodies(
    document: dict[str, Any], schema: dict[str, Any], seen: frozenset[str] = frozenset()
) -> Iterator[tuple[str, Any]]:
    """(field as errors name it, smallest JSON holding only a naive time there)."""
    ref = schema.get("$ref", "")
    if ref in seen:
        return
    schema = _resolve(document, schema)
    for variant in schema.get("oneOf", []) + schema.get("anyOf", []):
        yield from _time_bodies(document, variant, seen | {ref})
    if schema.get("type") == "array" and "items" in schema:
        for field, value in _time_bodies(document, schema["items"], seen | {ref}):
            yield f"[0].{field}".replace("[0].[", "[0][").rstrip("."), [value]
    for name, prop in schema.get("properties", {}).items():
        if _is_time(document, prop):
            yield name, {name: NAIVE}
            continue
        for field, value in _time_bodies(document, prop, seen | {ref}):
            yield f"{name}{field}" if field.startswith("[") else f"{name}.{field}", {name: value}


def _time_cases(document: dict[str, Any]) -> Iterator[tuple[str, str, str, str, Any]]:
    """(method, path template, source, field, value) for every time the document lists."""
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for param in operation.get("parameters", []):
                if param["in"] in ("query", "path") and _is_time(document, param.get("schema", {})):
                    yield method.upper(), path, param["in"], param["name"], NAIVE
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None:
                for field, value in _time_bodies(document, body["schema"]):
                    yield method.upper(), path, "body", field, value


def _fill(path: str, time_param: str | None) -> str:
    def value(found: re.Match[str]) -> str:
        return NAIVE if found.group(1) == time_param else str(uuid4())

    return re.sub(r"\{([^}:]+)(?::[^}]+)?\}", value, path)


async def test_every_time_without_an_offset_is_400_naming_the_field_and_its_source(
    app: Litestar, client: Client, admin: Auth
) -> None:
    document = app.openapi_schema.to_schema()
    cases = list(_time_cases(document))
    # The three seen in the field: a 500, a 200 and a 422 said "body" for a query parameter.
    assert {("GET", "/metrics/service", "query", "from"), ("GET", "/audit", "query", "from")} <= {
        c[:4] for c in cases
    }
    assert any(c[1].endswith("/shifts") and c[2] == "query" for c in cases)
    assert any(c[2] == "body" for c in cases)
    token = mint_token(admin.user_id, Role.TECHNICIAN, technician_id=uuid4())
    technician = {"Authorization": f"Bearer {token}"}
    answers: dict[str, object] = {}
    for method, template, source, field, value in cases:
        url = _fill(template, field if source == "path" else None)
        request: dict[str, Any] = {"params": {field: value}} if source == "query" else {}
        if source == "body":
            request = {"json": value}
        for headers in (admin.headers, technician):
            response = await client.request(method, url, headers=headers, **request)
            if response.status_code != 403:
                break
        shown = f"{method} {template} {source} {field}"
        body = response.json()
        named = [(e["key"], e["source"]) for e in body["extra"]]
        if response.status_code != 400 or named != [(field, source)]:
            answers[shown] = (response.status_code, body)
            continue
        assert "offset" in body["detail"] or "timezone" in body["detail"], (shown, body)
    assert answers == {}
