"""The web app's composition root: `create_app(settings)` builds FastAPI with its routes, and
the lifespan opens the pool, migrates (if configured), and builds the queue client and metrics.

The app never works jobs; it sends them. Run it with `fluffymail web`.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import AsyncIterator
from importlib import resources

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from prometheus_client import CollectorRegistry
from starlette.routing import BaseRoute

from fluffymail import __version__
from fluffymail.config import Settings
from fluffymail.crm import secrets
from fluffymail.db import migrate
from fluffymail.db.pool import database_url, migration_connection, open_pool, pooled
from fluffymail.queue import JobQueue
from fluffymail.queue.maintenance import MaintenanceOptions
from fluffymail.queue.metrics import QueueMetrics
from fluffymail.web import api, docs, errors, health, security, ui
from fluffymail.web.api import companies as companies_api
from fluffymail.web.api import contacts as contacts_api
from fluffymail.web.api import corrections as corrections_api
from fluffymail.web.api import followups as followups_api
from fluffymail.web.api import groups as groups_api
from fluffymail.web.api import lists as lists_api
from fluffymail.web.api import meetings as meetings_api
from fluffymail.web.api import messages as messages_api
from fluffymail.web.api import notes as notes_api
from fluffymail.web.api import tags as tags_api
from fluffymail.web.api import webhooks as webhooks_api
from fluffymail.web.deps import AppState
from fluffymail.web.services import connections, limits
from fluffymail.web.ui import companies as companies_ui
from fluffymail.web.ui import contacts as contacts_ui
from fluffymail.web.ui import corrections as corrections_ui
from fluffymail.web.ui import error_page, filters
from fluffymail.web.ui import followups as followups_ui
from fluffymail.web.ui import groups as groups_ui
from fluffymail.web.ui import lists as lists_ui
from fluffymail.web.ui import messages as messages_ui
from fluffymail.web.ui import notes as notes_ui
from fluffymail.web.ui import webhooks as webhooks_ui

log = logging.getLogger("fluffymail.web")
PACKAGE = resources.files("fluffymail.web")


def create_app(settings: Settings) -> FastAPI:
    """The FastAPI app for `settings`; the database is opened when the app starts.

    Raises:
        MissingSecretKey: production settings without FLUFFYMAIL_SECRET_KEY.
    """
    secrets.require_key(settings)
    registry = CollectorRegistry()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await open_pool(
            database_url(settings),
            min_size=settings.pool_min_size,
            max_size=settings.pool_max_size,
            name="web",
            pooler=pooled(settings),
            jit=False,  # the pages' statements are short: compiling them cost more (db.pool)
        )
        try:
            if settings.migrate_on_start:
                async with migration_connection(pool, settings.database_direct_url) as conn:
                    await migrate.upgrade(conn)
            maintenance = MaintenanceOptions(
                rescue_interval=settings.rescue_interval, leader_ttl=settings.leader_ttl
            )
            queue = JobQueue(
                pool,
                poll_interval=settings.poll_interval,
                listen=False,
                maintenance=maintenance,
                log=log,
            )
            metrics = QueueMetrics(queue, registry=registry, log=log)
            metrics.loop.start()
            tests = connections.connection_tests(settings)
            app.state.fm = AppState(
                settings=settings,
                pool=pool,
                queue=queue,
                metrics=metrics,
                connection_tests=tests,
                uploads=limits.UserSlots(settings.uploads_per_user),
            )
            try:
                yield
            finally:
                tests.close()
                await metrics.loop.stop()
        finally:
            await pool.close()

    app = FastAPI(
        title="FluffyMail",
        version=__version__,
        summary="Your mailbox as a relationship CRM: JSON API (cookie session or Bearer token).",
        lifespan=lifespan,
        openapi_url=None,  # web.docs serves it, and /docs, behind login outside development
        docs_url=None,
        redoc_url=None,
    )
    app.state.templates = _templates()
    errors.install(app, page=error_page.render)
    app.add_middleware(health.HttpMetrics, registry=registry)
    app.add_middleware(security.SecurityHeaders)
    app.add_middleware(security.TrustedHosts, allowed_hosts=security.allowed_hosts(settings))
    docs.install(app, settings)
    app.mount("/static", StaticFiles(directory=str(PACKAGE / "static")), name="static")
    app.router.routes.extend(_routes())
    return app


@functools.cache
def _routes() -> tuple[BaseRoute, ...]:
    """Every router's routes, included once per process and shared by each app it makes.

    FastAPI prepares an included route (its dependencies and validators) on first use, ~0.3 s
    for all of ours; a process that makes many apps (the tests make one each) does it once.
    """
    router = APIRouter()
    router.include_router(health.router)
    router.include_router(api.router)
    router.include_router(ui.router, include_in_schema=False)
    crm_apis = (contacts_api, companies_api, messages_api, notes_api, tags_api, groups_api)
    for crm_api in (
        *crm_apis,
        corrections_api,
        lists_api,
        followups_api,
        webhooks_api,
        meetings_api,
    ):
        router.include_router(crm_api.router)
    crm_uis = (contacts_ui, companies_ui, messages_ui, notes_ui, groups_ui)
    for crm_ui in (*crm_uis, corrections_ui, lists_ui, followups_ui, webhooks_ui):
        router.include_router(crm_ui.router, include_in_schema=False)
    return tuple(router.routes)


def _templates() -> Jinja2Templates:
    templates = Jinja2Templates(
        directory=str(PACKAGE / "templates"), context_processors=[security.template_context]
    )
    filters.install(templates.env)
    return templates
