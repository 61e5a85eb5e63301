"""Meetings: a contact's meetings, and importing an .ics file (the body is the file).

Every query carries the caller's user id: someone else's contact answers 404.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from fluffymail.crm.contacts.extraction import Policy
from fluffymail.web.api.schemas import BIGINT_MAX, ErrorOut
from fluffymail.web.deps import CurrentAccount, State
from fluffymail.web.errors import WebError
from fluffymail.web.services import meetings as service

ERRORS = {401: {"model": ErrorOut}, 422: {"model": ErrorOut}}
router = APIRouter(prefix="/api", tags=["meetings"], responses=ERRORS)
ContactId = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
ICS_MAX_BYTES = 5 * 1024 * 1024
ICS_BODY = {
    "requestBody": {
        "required": True,
        "content": {"text/calendar": {"schema": {"type": "string", "format": "binary"}}},
    }
}


class MeetingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    location: str
    starts_on: datetime
    ends_on: datetime
    all_day: bool
    source: Literal["google", "ics"] = Field(description="Google Calendar or an imported .ics")
    attendees: int = Field(description="People invited besides you")
    response: str = Field(
        description="The contact's answer: accepted, tentative, declined or needsAction"
    )
    organizer: bool = Field(description="The contact organised it")


class IcsImportOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    events: int = Field(description="Events read from the file (recurrences expanded)")
    stored: int = Field(description="Meetings stored or updated")
    removed: int = Field(description="Meetings removed (cancelled in the file)")
    skipped: int = Field(description="Events with nobody but you")
    contacts_created: int = Field(description="Attendees who became contacts (per the policy)")


class TooLarge(WebError):
    """The file is too large."""

    status = 413
    code = "too_large"


@router.get(
    "/contacts/{contact_id}/meetings",
    response_model=list[MeetingOut],
    responses={**ERRORS, 404: {"model": ErrorOut}},
    summary="The contact's meetings, newest first",
)
async def contact_meetings(
    contact_id: ContactId,
    state: State,
    account: CurrentAccount,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[MeetingOut]:
    found = await service.contact_meetings(state.pool, account.id, contact_id, limit=limit)
    return [MeetingOut.model_validate(m) for m in found]


@router.post(
    "/meetings/import",
    response_model=IcsImportOut,
    openapi_extra=ICS_BODY,
    responses={**ERRORS, 400: {"model": ErrorOut}, 413: {"model": ErrorOut}},
    summary="Import meetings from an .ics file (the request body); re-importing updates them",
)
async def import_ics(
    request: Request,
    state: State,
    account: CurrentAccount,
    contact_policy: Annotated[
        Literal["sent", "sent_and_received", "none"],
        Query(description="Who becomes a contact: as a connection's creation policy"),
    ] = "sent",
) -> IcsImportOut:
    data = await _read(request)
    result = await service.import_ics(
        state.pool, state.queue, account.id, data, policy=Policy(contact_policy)
    )
    return IcsImportOut.model_validate(result)


async def _read(request: Request) -> bytes:
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > ICS_MAX_BYTES:
                raise TooLarge(f"an .ics file may be at most {ICS_MAX_BYTES // 1024 // 1024} MB")
    except RuntimeError as exc:  # the body was read for a CSRF form field
        raise WebError("send the .ics file as the body, the CSRF token in X-CSRF-Token") from exc
    return bytes(body)
