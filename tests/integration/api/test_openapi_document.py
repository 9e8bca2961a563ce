"""The OpenAPI document, as a client generator or a reader of Swagger sees it, served by the app."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

Client = AsyncTestClient[Litestar]


@pytest.fixture
async def document(client: Client) -> dict[str, Any]:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    served: dict[str, Any] = response.json()
    return served


def _operations(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{method.upper()} {path}", operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "responses" in operation
    ]


async def test_every_operation_says_what_it_does_who_may_call_it_and_what_its_errors_mean(
    document: dict[str, Any],
) -> None:
    # None of the operations had a description, and Swagger showed handler names ("ReportStatus").
    operations = _operations(document)
    assert len(operations) > 100
    undescribed = [name for name, op in operations if "Who may call it:" not in op.get("description", "")]
    assert undescribed == []
    unexplained = [
        name
        for name, op in operations
        if any(code.startswith("4") for code in op["responses"]) and "Errors: " not in op["description"]
    ]
    assert unexplained == []
    status = document["paths"]["/jobs/{job_id}/status"]["post"]
    assert status["summary"] == "Report status"
    assert "A technician reports only on their own jobs" in status["description"]


async def test_if_match_is_required_wherever_its_absence_is_a_428(document: dict[str, Any]) -> None:
    guarded = [(name, op) for name, op in _operations(document) if "428" in op["responses"]]
    assert "PATCH /jobs/{job_id}" in {name for name, _ in guarded}
    # A cancel takes If-Match when given and goes without it: no 428 is promised there.
    cancel = document["paths"]["/jobs/{job_id}/cancel"]["post"]
    assert "428" not in cancel["responses"]
    assert not any(p["name"] == "If-Match" and p.get("required") for p in cancel["parameters"])
    optional = [
        name
        for name, op in guarded
        if not any(p["name"] == "If-Match" and p.get("required") for p in op.get("parameters", []))
    ]
    assert optional == []


async def test_bodies_that_refuse_unknown_fields_say_so(client: Client, document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for name in ("JobCreate", "JobUpdate", "PartNeed", "ShiftIn", "BreakIn"):
        assert schemas[name].get("additionalProperties") is False, name
    # What the document says is what the app does.
    refused = await client.post("/auth/login", json={"email": "a@example.com", "password": "x", "extra": 1})
    assert refused.status_code == 400
    assert schemas["LoginRequest"]["additionalProperties"] is False
    # Answers are not closed: a client must accept fields added later.
    assert "additionalProperties" not in schemas["Job"]
