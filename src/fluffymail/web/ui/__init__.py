"""Server-rendered pages (Jinja2 + htmx): login, account, jobs dashboard, connections."""

from __future__ import annotations

from fastapi import APIRouter

from fluffymail.web.ui import (
    account,
    auth,
    connections,
    contact_policy,
    identity,
    imports,
    jobs,
    team,
)

router = APIRouter()
router.include_router(auth.router)
router.include_router(account.router)
router.include_router(identity.router)
router.include_router(jobs.router)
router.include_router(connections.router)
router.include_router(contact_policy.router)
router.include_router(team.router)
router.include_router(imports.router)
