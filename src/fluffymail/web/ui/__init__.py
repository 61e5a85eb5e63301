"""Server-rendered pages (Jinja2 + htmx): login, jobs dashboard, connections."""

from __future__ import annotations

from fastapi import APIRouter

from fluffymail.web.ui import auth, connections, jobs

router = APIRouter()
router.include_router(auth.router)
router.include_router(jobs.router)
router.include_router(connections.router)
