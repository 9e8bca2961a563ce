"""What anyone can send without a token: OPTIONS on every path, and paths that merely contain a
public path's name. Each gets a plain HTTP answer (204 with Allow, 401), never a 500."""

from __future__ import annotations

import re
from uuid import uuid4

import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient

from tests.conftest import Auth

Client = AsyncTestClient[Litestar]

_PARAMETER = re.compile(r"\{([^}:]+)(?::([^}]+))?\}")
_EXAMPLE = {"uuid": str(uuid4()), "int": "1", "date": "2026-12-01", "str": "x", "path": "x"}


def _concrete(path_format: str) -> str:
    return _PARAMETER.sub(lambda m: _EXAMPLE.get(m.group(2) or "str", "x"), path_format)


def _routes(app: Litestar) -> list[tuple[str, set[str]]]:
    return [
        (_concrete(route.path), set(route.methods)) for route in app.routes if isinstance(route, HTTPRoute)
    ]


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token"])
async def test_options_on_every_path_answers_204_with_allow_and_no_data(
    client: Client, app: Litestar, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    routes = _routes(app)
    assert len(routes) > 80
    wrong = []
    for path, methods in routes:
        answer = await client.options(path, headers=headers)
        allowed = {m.strip() for m in answer.headers.get("Allow", "").split(",") if m.strip()}
        if answer.status_code != 204 or allowed != methods or answer.content:
            wrong.append(f"{path}: {answer.status_code} Allow={allowed} {answer.text[:80]}")
    assert wrong == []


@pytest.mark.parametrize("path", ["/problems/health", "/problems/ready", "/problems/schema"])
@pytest.mark.parametrize("method", ["GET", "PUT"])
async def test_a_path_that_merely_contains_a_public_name_still_needs_a_token(
    client: Client, path: str, method: str
) -> None:
    answer = await client.request(method, path, json={})
    assert answer.status_code == 401, answer.text


async def test_with_a_token_such_a_path_is_an_ordinary_lookup(client: Client, dispatcher: Auth) -> None:
    answer = await client.get("/problems/health", headers=dispatcher.headers)
    assert answer.status_code == 404, answer.text
    assert answer.json()["detail"] == "no problem with this code"


async def test_the_public_paths_stay_public(client: Client) -> None:
    for path in ("/health", "/schema/openapi.json", "/metrics"):
        assert (await client.get(path)).status_code == 200, path
    login = await client.post("/auth/login", json={"email": "nobody@example.com", "password": "x"})
    assert login.status_code == 401
    assert login.json()["detail"] == "Wrong email or password."
