"""Tags of your workspace (list, create; rename, recolour, delete: owners) and tagging contacts
and companies, one at a time or many contacts at once. Someone else's tag, contact or company
answers 404."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Response

from fluffymail.web import idempotency
from fluffymail.web.api.note_schemas import BulkIn, BulkOut, TagIn, TagOut, TagPatchIn
from fluffymail.web.api.schemas import BIGINT_MAX, ErrorOut
from fluffymail.web.deps import CurrentAccount, State
from fluffymail.web.idempotency import Idempotent, IdempotentRoute
from fluffymail.web.services import tags as service
from fluffymail.web.services.notes import SubjectKind

ERRORS = {401: {"model": ErrorOut}, 422: {"model": ErrorOut}}
NOT_FOUND = {**ERRORS, 404: {"model": ErrorOut}}
CONFLICT = {**NOT_FOUND, 409: {"model": ErrorOut}}
OWNERS = {403: {"model": ErrorOut}}  # owners only: a member is refused with the reason
router = APIRouter(prefix="/api", tags=["tags"], responses=ERRORS, route_class=IdempotentRoute)
TagId = Annotated[int, Path(ge=1, le=BIGINT_MAX)]


@router.get("/tags", response_model=list[TagOut], summary="Your workspace's tags, by name")
async def list_tags(state: State, account: CurrentAccount) -> list[TagOut]:
    return [TagOut.model_validate(t) for t in await service.list_tags(state.pool, account.id)]


@router.post(
    "/tags",
    response_model=TagOut,
    status_code=201,
    responses={**CONFLICT, **idempotency.RESPONSES},
    dependencies=[Idempotent],
    summary="A new tag",
)
async def create_tag(
    body: Annotated[TagIn, Body()], state: State, account: CurrentAccount
) -> TagOut:
    tag = await service.create_tag(state.pool, account.id, body.name, body.colour.value)
    return TagOut.model_validate(tag)


@router.patch(
    "/tags/{tag_id}",
    response_model=TagOut,
    responses={**CONFLICT, **OWNERS},
    summary="Rename or recolour (owners: every teammate's tag and saved views change)",
)
async def update_tag(
    tag_id: TagId, body: Annotated[TagPatchIn, Body()], state: State, account: CurrentAccount
) -> TagOut:
    colour = body.colour.value if body.colour else None
    tag = await service.update_tag(state.pool, account.id, tag_id, name=body.name, colour=colour)
    return TagOut.model_validate(tag)


@router.delete(
    "/tags/{tag_id}",
    status_code=204,
    responses={**NOT_FOUND, **OWNERS},
    summary="Delete a tag (it comes off everything, every teammate's too; owners)",
)
async def delete_tag(tag_id: TagId, state: State, account: CurrentAccount) -> Response:
    await service.delete_tag(state.pool, account.id, tag_id)
    return Response(status_code=204)


@router.post(
    "/contacts/bulk",
    response_model=BulkOut,
    responses=CONFLICT,
    summary="Tag or untag many contacts at once: all of them, or none when any is not yours or"
    " was merged away (409 naming the contact each joined)",
)
async def bulk(body: Annotated[BulkIn, Body()], state: State, account: CurrentAccount) -> BulkOut:
    result = await service.bulk(state.pool, account.id, body.action, body.tag_id, body.contact_ids)
    return BulkOut(
        action=result.action,
        tag=TagOut.model_validate(result.tag),
        changed=list(result.changed),
        unchanged=list(result.unchanged),
    )


SUBJECT_NOUN: dict[SubjectKind, tuple[str, str]] = {
    "contact": ("contacts", "contact"),
    "company": ("companies", "company"),
}


async def _subject_tags(
    state: State, user_id: int, kind: SubjectKind, subject_id: int
) -> list[TagOut]:
    read = service.contact_tags if kind == "contact" else service.company_tags
    return [TagOut.model_validate(t) for t in await read(state.pool, user_id, subject_id)]


async def _set_tag(
    state: State, user_id: int, kind: SubjectKind, subject_id: int, tag_id: int, *, on: bool
) -> None:
    if kind == "contact":
        await service.bulk(state.pool, user_id, "tag" if on else "untag", tag_id, [subject_id])
    else:
        await service.set_company_tag(state.pool, user_id, subject_id, tag_id, on=on)


def _subject_routes(kind: SubjectKind) -> None:
    """The tag routes of one subject kind: /contacts/{contact_id}/tags, …"""
    base, noun = SUBJECT_NOUN[kind]
    param = f"{kind}_id"
    # A default, not an annotation: annotations are strings resolved in the module's globals.
    subject_path = Path(ge=1, le=BIGINT_MAX, alias=param)

    @router.get(
        f"/{base}/{{{param}}}/tags",
        response_model=list[TagOut],
        responses=NOT_FOUND,
        summary=f"A {noun}'s tags",
    )
    async def subject_tags(
        state: State, account: CurrentAccount, subject_id: int = subject_path
    ) -> list[TagOut]:
        return await _subject_tags(state, account.id, kind, subject_id)

    @router.put(
        f"/{base}/{{{param}}}/tags/{{tag_id}}",
        response_model=list[TagOut],
        responses=CONFLICT,  # 409: it was merged into another
        summary=f"Tag a {noun}; answers its tags",
    )
    async def tag(
        tag_id: TagId, state: State, account: CurrentAccount, subject_id: int = subject_path
    ) -> list[TagOut]:
        await _set_tag(state, account.id, kind, subject_id, tag_id, on=True)
        return await _subject_tags(state, account.id, kind, subject_id)

    @router.delete(
        f"/{base}/{{{param}}}/tags/{{tag_id}}",
        response_model=list[TagOut],
        responses=CONFLICT if kind == "contact" else NOT_FOUND,
        summary=f"Untag a {noun}; answers its tags",
    )
    async def untag(
        tag_id: TagId, state: State, account: CurrentAccount, subject_id: int = subject_path
    ) -> list[TagOut]:
        await _set_tag(state, account.id, kind, subject_id, tag_id, on=False)
        return await _subject_tags(state, account.id, kind, subject_id)


for _kind in SUBJECT_NOUN:
    _subject_routes(_kind)
