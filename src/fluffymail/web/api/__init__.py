"""JSON routes under /api (each module's router carries the prefix, so route templates are whole
for metrics), one module per resource; `router` gathers them."""

from __future__ import annotations

from fastapi import APIRouter

from fluffymail.web.api import connections, contact_policy, identity, imports, jobs, me, team

router = APIRouter()
router.include_router(me.router)
router.include_router(identity.router)
router.include_router(jobs.router)
router.include_router(connections.router)
router.include_router(contact_policy.router)
router.include_router(team.router)
router.include_router(imports.router)  # before /api/contacts/{id}: its export routes
