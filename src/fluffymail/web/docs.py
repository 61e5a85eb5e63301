"""The API's description: `/openapi.json` and `/docs` (Swagger UI, its assets served from the
installed `fastapi-offline` package, so the page works without internet). Open in development;
elsewhere only for a logged-in user or an API token."""

from __future__ import annotations

from importlib import resources
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.openapi.docs import swagger_ui_default_parameters
from fastapi.staticfiles import StaticFiles
from starlette.responses import JSONResponse, Response

from fluffymail.config import Settings
from fluffymail.web.deps import current_account

SWAGGER_UI_ASSETS = resources.files("fastapi_offline") / "static"


def install(app: FastAPI, settings: Settings) -> None:
    """Add the docs routes and their assets (at /static/docs: call before mounting /static)."""
    guard = [] if settings.is_development else [Depends(current_account)]
    app.mount("/static/docs", StaticFiles(directory=str(SWAGGER_UI_ASSETS)), name="docs-static")

    @app.get("/openapi.json", include_in_schema=False, dependencies=guard)
    async def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False, dependencies=guard)
    async def swagger_ui(request: Request) -> Response:
        swagger: dict[str, Any] = {**swagger_ui_default_parameters, "url": "/openapi.json"}
        return request.app.state.templates.TemplateResponse(
            request, "docs.html", {"title": f"{app.title} API", "swagger": swagger}
        )
