"""The caller's mail connections: list, detail with recent sync jobs, and "sync now".

Every query carries the caller's user id: someone else's connection answers 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from fluffymail.web.api.schemas import (
    BIGINT_MAX,
    ConnectionDetailOut,
    ConnectionOut,
    ErrorOut,
    JobOut,
    SyncOut,
)
from fluffymail.web.deps import CurrentAccount, State
from fluffymail.web.services import connections as service

ERRORS = {401: {"model": ErrorOut}, 422: {"model": ErrorOut}}
NOT_FOUND = {**ERRORS, 404: {"model": ErrorOut}}
router = APIRouter(prefix="/api", tags=["connections"], responses=ERRORS)
ConnectionId = Annotated[int, Path(ge=1, le=BIGINT_MAX)]


def _out(view: service.ConnectionView) -> ConnectionOut:
    return ConnectionOut.model_validate(view, from_attributes=True)


@router.get("/connections", response_model=list[ConnectionOut], summary="Your mail connections")
async def list_connections(state: State, account: CurrentAccount) -> list[ConnectionOut]:
    return [_out(view) for view in await service.list_connections(state.pool, account.id)]


@router.get("/connections/{connection_id}", response_model=ConnectionDetailOut, responses=NOT_FOUND,
            summary="One of your connections with its recent sync jobs")
async def get_connection(connection_id: ConnectionId, state: State, account: CurrentAccount) -> ConnectionDetailOut:
    view = await service.get_connection(state.pool, account.id, connection_id)
    jobs = await service.recent_sync_jobs(state.queue, account.id, connection_id)
    return ConnectionDetailOut(**_out(view).model_dump(), recent_jobs=[JobOut.of(job) for job in jobs])


@router.post("/connections/{connection_id}/sync", response_model=SyncOut, status_code=202,
             responses=NOT_FOUND, summary="Sync now, and every 15 minutes from now on")
async def sync(connection_id: ConnectionId, state: State, account: CurrentAccount) -> SyncOut:
    request = await service.request_sync(state.pool, state.queue, account.id, connection_id)
    return SyncOut(connection_id=request.connection_id, job_id=request.job_id, schedule=request.schedule)
