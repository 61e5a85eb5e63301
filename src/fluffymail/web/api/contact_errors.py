"""Contacts, companies and messages errors to HTTP: a route class that turns their
not-found and refused errors into the app's `NotFound` (404) and `Conflict` (409), so pages
and API answer them in the one error shape of `web/errors.py`."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from fluffymail.web.errors import Conflict, NotFound
from fluffymail.web.services.companies import CompanyNotFound
from fluffymail.web.services.contacts import ContactNotFound, MergeNotFound, MergeRefused
from fluffymail.web.services.messages import MessageNotFound

NOT_FOUND = (ContactNotFound, CompanyNotFound, MessageNotFound, MergeNotFound)


class CrmRoute(APIRoute):
    """An `APIRoute` whose handler maps the CRM read/merge errors to web errors."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except NOT_FOUND as exc:
                raise NotFound(str(exc)) from exc
            except MergeRefused as exc:
                raise Conflict(str(exc)) from exc

        return handle
