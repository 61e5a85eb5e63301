"""Kept for the routers that still name it: contacts, companies and messages errors are now
mapped to 404 / 409 in `web/errors.py` like every other domain error, so `CrmRoute` is a plain
`APIRoute`. Drop `route_class=CrmRoute` from those routers, then this module."""

from __future__ import annotations

from fastapi.routing import APIRoute

CrmRoute = APIRoute
