"""Security headers on every response, the Host check, the templates' CSP discipline, and the
API docs: served from the package, open in development, behind login elsewhere."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pydantic
import pytest

from fluffymail.config import Settings
from fluffymail.web.app import create_app
from fluffymail.web.security import HostsNotConfigured
from tests.integration.web.conftest import User, web_settings

TEMPLATES = Path(str(resources.files("fluffymail.web") / "templates"))


@asynccontextmanager
async def serve(settings: Settings, host: str = "test") -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{host}") as client:
            yield client


def settings_for(db_url: str, tmp_path: Path, **changes: Any) -> Settings:
    return web_settings(db_url, tmp_path).model_copy(update=changes)


def policy(response: httpx.Response) -> dict[str, str]:
    directives = response.headers["content-security-policy"].split(";")
    return dict(d.strip().split(" ", 1) for d in directives)


async def test_every_response_carries_the_security_headers(client: httpx.AsyncClient) -> None:
    for path in ("/login", "/api/me", "/healthz", "/static/app.css"):
        response = await client.get(path)
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["referrer-policy"] == "same-origin", path
        csp = policy(response)
        assert csp["frame-ancestors"] == "'none'", path
        assert csp["default-src"] == "'self'" and csp["object-src"] == "'none'", path
        assert re.fullmatch(r"'self' 'nonce-[\w-]{22}'", csp["script-src"]), path
        assert re.fullmatch(r"'self' 'nonce-[\w-]{22}'", csp["style-src"]), path
    nonces = {policy(await client.get("/login"))["script-src"] for _ in range(3)}
    assert len(nonces) == 3  # a fresh nonce for every response


def test_templates_run_no_inline_code_and_apply_no_style_attribute() -> None:
    """What the policy refuses must not be in a page: a `<script>` without `src` needs the
    request's nonce; no `style=`, `on...=` or `hx-on` attribute (their code would need eval)."""
    offences = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        text = re.sub(r"{#.*?#}", "", template.read_text(), flags=re.DOTALL)  # comments
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag and 'nonce="{{ csp_nonce }}"' not in tag:
                offences.append(f"{template.name}: {tag}")
        for attribute in re.findall(r"\s(style|on[a-z]+|hx-on[:\w-]*)=", text):
            offences.append(f"{template.name}: {attribute}=")
    assert offences == []


async def test_docs__swagger_ui_from_the_package_with_the_nonce(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    nonce = policy(page)["script-src"].split("'nonce-")[1].rstrip("'")
    assert f'<script nonce="{nonce}">' in page.text
    urls = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert urls and all(url.startswith("http://test/static/docs/") for url in urls), urls
    for url in urls:
        asset = await client.get(url)
        assert asset.status_code == 200 and len(asset.content) > 1000, url
    assert (await client.get("/openapi.json")).json()["info"]["title"] == "FluffyMail"
    # No ReDoc: it injects <style> elements the CSP refuses.
    assert (await client.get("/redoc")).status_code == 404


async def test_docs__behind_login_outside_development(
    db_url: str, tmp_path: Path, make_user: Callable[..., Awaitable[User]]
) -> None:
    settings = settings_for(db_url, tmp_path, environment="staging", allowed_hosts="test")
    user = await make_user("reader@example.com")
    async with serve(settings) as client:
        page = await client.get("/docs", headers={"Accept": "text/html"})
        assert page.status_code == 303 and page.headers["location"] == "/login?next=/docs"
        schema = await client.get("/openapi.json")
        assert schema.status_code == 401
        assert schema.json()["error"]["code"] == "not_authenticated"
        assert (await client.get("/openapi.json", headers=user.auth)).status_code == 200
        assert (await client.get("/docs", headers=user.auth)).status_code == 200


async def test_host__only_the_allowed_hosts_are_answered(db_url: str, tmp_path: Path) -> None:
    settings = settings_for(db_url, tmp_path, allowed_hosts="crm.example.com, *.fluffy.test")
    async with serve(settings, host="crm.example.com") as client:
        page = await client.get("/login")
        assert page.status_code == 200
        assert 'href="http://crm.example.com/static/app.css"' in page.text
        assert (await client.get("/login", headers={"Host": "a.fluffy.test"})).status_code == 200
        forged = await client.get("/login", headers={"Host": "evil.example"})
        assert forged.status_code == 400 and "evil.example" not in forged.text
        # Platforms probe health by IP address; those answers hold no URL.
        assert (await client.get("/healthz", headers={"Host": "10.0.0.7:8000"})).status_code == 200


def test_host__outside_development_the_allowed_hosts_must_be_set(tmp_path: Path) -> None:
    with pytest.raises(HostsNotConfigured, match="FLUFFYMAIL_ALLOWED_HOSTS"):
        create_app(Settings(_env_file=None, data_dir=tmp_path, environment="staging"))  # type: ignore[call-arg]
    with pytest.raises(pydantic.ValidationError, match="wildcard"):
        Settings(_env_file=None, allowed_hosts="crm.*.example.com")  # type: ignore[call-arg]
