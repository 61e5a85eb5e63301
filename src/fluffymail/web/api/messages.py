"""Messages: the list and mail search (`GET /api/messages`), the people who wrote about a subject
(`GET /api/messages/people`) and one message (`GET /api/messages/{id}`, what citations link to).

Every query carries the caller's user id: anyone else's message answers 404, and anyone else's
contact or company, used as a filter, finds nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query

from fluffymail.web.api.contact_schemas import MessageOut
from fluffymail.web.api.message_schemas import (
    MessageItemOut,
    MessagePageOut,
    MessageSort,
    WriterOut,
)
from fluffymail.web.api.schemas import BIGINT_MAX, ErrorOut
from fluffymail.web.deps import CurrentAccount, State
from fluffymail.web.services import message_search as search
from fluffymail.web.services import messages as service

ERRORS = {401: {"model": ErrorOut}, 404: {"model": ErrorOut}, 422: {"model": ErrorOut}}
LIST_ERRORS = {400: {"model": ErrorOut}, 401: {"model": ErrorOut}, 422: {"model": ErrorOut}}
router = APIRouter(prefix="/api", tags=["messages"], responses=ERRORS)
Words = Annotated[
    str,
    Query(
        max_length=300,
        pattern=r"^[^\x00-\x1f]*$",
        description="Words to find in subjects, people and bodies: `a b` both, `a or b` either,"
        ' `"a b"` the phrase, `-a` without; part of an address (`acme.com`, `@acme.com`,'
        " `ada.lovelace`, `ada@`) finds the mail from and to the addresses holding it",
    ),
]
Id = Annotated[int | None, Query(ge=1, le=BIGINT_MAX)]


@router.get(
    "/messages",
    response_model=MessagePageOut,
    summary="Your messages, newest or best match first, filtered",
    responses=LIST_ERRORS,
)
async def list_messages(
    state: State,
    account: CurrentAccount,
    q: Words | None = None,
    from_contact: Annotated[Id, Query(description="Sent by this contact")] = None,
    to_contact: Annotated[Id, Query(description="Sent to (or copied to) this contact")] = None,
    company: Annotated[Id, Query(description="With any contact of this company")] = None,
    since: Annotated[datetime | None, Query(description="Dated at or after")] = None,
    until: Annotated[datetime | None, Query(description="Dated before")] = None,
    attachment: Annotated[bool | None, Query(description="With (or without) attachments")] = None,
    folder: Annotated[
        str | None, Query(max_length=200, pattern=r"^[^\x00-\x1f]*$", description="Folder name")
    ] = None,
    sort: Annotated[
        MessageSort, Query(description="`relevance` (with `q`; else newest first) or `date`")
    ] = MessageSort.RELEVANCE,
    limit: Annotated[int, Query(ge=1, le=200)] = 25,
    after: Annotated[
        str | None,
        Query(max_length=400, pattern=r"^[A-Za-z0-9_-]+$", description="`next_after` of a page"),
    ] = None,
) -> MessagePageOut:
    query = search.MessageQuery(
        q=q.strip() or None if q is not None else None,
        from_contact=from_contact,
        to_contact=to_contact,
        company=company,
        since=since,
        until=until,
        attachment=attachment,
        folder=folder or None,
        sort=sort.value,
        limit=limit,
        after=after,
    )
    page = await search.list_messages(state.pool, account.id, query)
    return MessagePageOut(
        items=[MessageItemOut.model_validate(item) for item in page.items],
        total=page.total,
        total_capped=page.total_capped,
        next_after=page.next_after,
    )


@router.get(
    "/messages/people",
    response_model=list[WriterOut],
    summary="The contacts who wrote about something: most such messages first",
    responses=LIST_ERRORS,
)
async def people_who_wrote(
    state: State,
    account: CurrentAccount,
    q: Annotated[str, Query(min_length=1, max_length=300, pattern=r"^[^\x00-\x1f]*$")],
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> list[WriterOut]:
    found = await search.writers(state.pool, account.id, q, limit)
    return [WriterOut.model_validate(w) for w in found]


@router.get(
    "/messages/{message_id}",
    response_model=MessageOut,
    summary="One of your messages: headers, participants and body text",
)
async def get_message(
    message_id: Annotated[int, Path(ge=1, le=BIGINT_MAX)], state: State, account: CurrentAccount
) -> MessageOut:
    return MessageOut.model_validate(await service.get_message(state.pool, account.id, message_id))
