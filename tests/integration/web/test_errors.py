"""Bad input answers 4xx in one shape, `{"error": {"code", "message"}}`, never a 500."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.web.conftest import User

BAD = [
    ("GET", "/api/jobs/abc", None, 422),
    ("GET", "/api/jobs/0", None, 422),
    ("GET", "/api/jobs/99999999999999999999999", None, 422),
    ("GET", "/api/jobs?limit=100000", None, 422),
    ("GET", "/api/jobs?state=exploded", None, 422),
    ("GET", "/api/jobs?since=yesterday", None, 422),
    ("GET", "/api/jobs?queue=a%00b", None, 422),
    ("POST", "/api/jobs/retry", {"queue": 5, "color": "red"}, 422),
    ("POST", "/api/jobs/cancel", [1, 2], 422),
    ("POST", "/api/queues/demo/redrive", {"limit": -1}, 422),
    ("GET", "/api/connections/-4", None, 422),
    ("GET", "/api/nothing-here", None, 404),
    ("DELETE", "/api/jobs/stats", None, 405),
]


@pytest.mark.parametrize(("method", "path", "body", "status"), BAD)
async def test_bad_input__4xx_with_the_error_shape(
    client: httpx.AsyncClient, admin: User, method: str, path: str, body: object, status: int
) -> None:
    response = await client.request(method, path, json=body, headers=admin.auth)
    assert response.status_code == status
    error = response.json()["error"]
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]


@pytest.mark.parametrize(
    ("path", "body", "said"),
    [
        ("/api/tags", {"name": "   "}, "body.name: must not be blank"),
        ("/api/tags", {"name": "a\tb"}, "body.name: must not hold control characters"),
        ("/api/connections/imap", {"host": "imap example", "password": "x", "username": "u"},
         "body.host: holds characters this field does not take"),
    ],
)  # fmt: skip
async def test_a_value_that_fails_a_pattern__said_in_words_not_the_pattern(
    client: httpx.AsyncClient, admin: User, path: str, body: object, said: str
) -> None:
    """QA: a blank tag name answered `String should match pattern '^[^\\x00-\\x1f]*…'`."""
    response = await client.post(path, json=body, headers=admin.auth)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["message"].startswith(said), error
    assert "pattern" not in response.text and "\\x00" not in response.text


async def test_malformed_json__422(client: httpx.AsyncClient, admin: User) -> None:
    response = await client.post(
        "/api/jobs/retry",
        content=b"{not json",
        headers={**admin.auth, "content-type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


def test_a_value_the_database_refuses__its_one_line_reason_only(db_url: str) -> None:
    """The 400 for a value PostgreSQL refuses quotes its primary message, not the statement
    or context lines it adds (LINE 1: SELECT …)."""
    import psycopg

    from fluffymail.web.errors import _primary

    with psycopg.connect(db_url) as conn, pytest.raises(psycopg.DataError) as caught:
        conn.execute("SELECT 'twelve'::int")
    assert "LINE 1" in str(caught.value)
    assert _primary(caught.value) == 'invalid input syntax for type integer: "twelve"'
