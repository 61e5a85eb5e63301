"""Error pages are for people: every page, given a bad id or a bad query value, answers in the
normal layout (navigation included) with a plain message and a way back; the JSON API keeps
its precise errors for the same inputs. (tests/browser/test_error_pages.py does the same walk
in Chromium and takes screenshots.)"""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI

from tests.integration.web.conftest import User, login
from tests.integration.web.page_routes import bad_urls, developer_text, page_routes

HTML = {"accept": "text/html"}
NAV = '<nav aria-label="Main">'


def _main(html: str) -> str:
    match = re.search(r'<main id="main".*?</main>', html, re.S)
    assert match, "no <main> in the page"
    return match[0]


async def test_every_page_with_a_bad_id_or_query__plain_words_in_the_layout(
    app: FastAPI, client: httpx.AsyncClient, admin: User
) -> None:
    await login(client, "admin@example.com")
    urls = bad_urls(page_routes(app))
    assert any(u.bad_path for u in urls) and any("people=all" in u.url for u in urls)
    for bad in urls:
        response = await client.get(bad.url, headers=HTML, follow_redirects=True)
        assert response.status_code < 500, bad.url
        assert developer_text(response.text) == [], (bad.url, developer_text(response.text))
        if bad.bad_path:
            assert response.status_code == 404, bad.url
        if response.status_code >= 400:
            main = _main(response.text)
            assert NAV in response.text, f"{bad.url}: the error page lost the navigation"
            assert re.search(r"<h1[^>]*>[^<]+</h1>", main), bad.url
            assert re.search(r'class="error-message">[^<]{10,}</p>', main), bad.url
            assert 'class="btn btn-primary" href="/' in main, f"{bad.url}: no way back"


@pytest.mark.parametrize(
    ("url", "status", "says"),
    [
        ("/contacts/abc", 404, "We couldn&#39;t find that contact"),
        ("/contacts/999999999", 404, "It may have been merged into another contact or deleted."),
        ("/companies/abc", 404, "We couldn&#39;t find that company"),
        ("/messages/0", 404, "We couldn&#39;t find that message"),
        ("/contacts/1/timeline?offset=-1", 400, "The position in the list must be a whole number"),
        ("/no/such/page", 404, "There&#39;s no page at this address"),
        ("/contacts?people=all", 400, "There is no people filter called “all”."),
        ("/contacts?sort=nonsense", 400, "Choose “Strength”, “Last interaction”, “Name” or “Tag”."),
        (
            "/contacts?offset=-1",
            400,
            "The position in the list must be a whole number of 0 or more.",
        ),
        ("/contacts?offset=abc", 400, "The position in the list must be a whole number."),
        ("/companies?q=" + "x" * 300, 400, "The search is too long: use at most 200 characters."),
        ("/contacts?company=acme", 400, "The company filter must be a company&#39;s number"),
    ],
)
async def test_pages_say_what_went_wrong(
    client: httpx.AsyncClient, alice: User, url: str, status: int, says: str
) -> None:
    await login(client, "alice@example.com")
    response = await client.get(url, headers=HTML)
    assert response.status_code == status
    assert says in response.text and NAV in response.text
    assert 'aria-current="page"' in response.text or url.startswith("/no/")


async def test_logged_out__the_error_page_has_the_layout_without_navigation(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/no/such/page", headers=HTML)
    assert response.status_code == 404
    assert 'class="topbar"' in response.text and NAV not in response.text
    assert "There&#39;s no page at this address" in response.text


@pytest.mark.parametrize(
    ("url", "status", "loc", "says"),
    [
        ("/api/contacts/abc", 422, ["path", "contact_id"], "Input should be a valid integer"),
        ("/api/contacts/abc/timeline", 422, ["path", "contact_id"], "Input should be"),
        ("/api/companies/abc", 422, ["path", "company_id"], "Input should be a valid integer"),
        ("/api/messages/abc", 422, ["path", "message_id"], "Input should be a valid integer"),
        ("/api/contacts?sort=nonsense", 422, ["query", "sort"], "Input should be"),
        ("/api/contacts?offset=-1", 422, ["query", "offset"], "greater than or equal to 0"),
        ("/api/contacts/999999999", 404, None, "no contact 999999999"),
        ("/api/messages/999999999", 404, None, "999999999"),
    ],
)
async def test_the_api_keeps_its_precise_json_errors(
    client: httpx.AsyncClient,
    alice: User,
    url: str,
    status: int,
    loc: list[str] | None,
    says: str,
) -> None:
    await login(client, "alice@example.com")  # a browser session too: JSON all the same
    for headers in (alice.auth, {**alice.auth, **HTML}):
        response = await client.get(url, headers=headers)
        assert response.status_code == status
        error = response.json()["error"]
        assert says in error["message"]
        if loc is not None:
            assert error["code"] == "validation_error"
            assert error["message"].startswith(".".join(loc) + ": ")
            assert error["details"][0]["loc"] == loc
