"""CSV and vCard in and out: upload a file of contacts or companies (answered with a preview:
the columns as read, the first rows, the rows left out and why), confirm it (a job imports
it), read its report; export contacts (any list or filter) as CSV or vCard and companies as
CSV, streamed. Someone else's import or list answers 404."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import StreamingResponse

from fluffymail.crm.imports.reading import ENCODINGS
from fluffymail.web.api.connections import request_body
from fluffymail.web.api.schemas import BIGINT_MAX, ErrorOut
from fluffymail.web.deps import CurrentAccount, State
from fluffymail.web.services import export
from fluffymail.web.services import imports as service

ERRORS = {401: {"model": ErrorOut}, 422: {"model": ErrorOut}}
NOT_FOUND = {**ERRORS, 404: {"model": ErrorOut}}
UPLOAD_ERRORS = {
    **ERRORS,
    **{code: {"model": ErrorOut} for code in (400, 409, 413, 415, 429)},
}
router = APIRouter(prefix="/api", tags=["imports"], responses=ERRORS)
ImportId = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
Encoding = Literal["utf-8", "utf-16", "windows-1252", "latin-1", "mac-roman"]
assert set(ENCODINGS) == set(Encoding.__args__)  # type: ignore[attr-defined]
Region = Annotated[
    str | None,
    Query(
        pattern=r"^[A-Za-z]{2}$",
        description="Country whose numbers are written without +country code (as GB, US)",
    ),
]


class ColumnOut(BaseModel):
    column: str = Field(description="The header as written in the file")
    field: str | None = Field(description="The field it feeds; null: ignored")


class RowProblemOut(BaseModel):
    row: int = Field(description="The row as a spreadsheet numbers it (the header is 1)")
    reason: str


class ImportRowOut(BaseModel):
    row: int
    address: str | None
    address_defect: Literal["leading_dot", "trailing_dot", "doubled_dot"] | None = Field(
        description="The address is damaged (as an old mail system left it) and kept as written"
    )
    name: str
    company: str
    company_domain: str | None
    website: str | None
    title: str
    phones: list[str]
    tags: list[str]
    notes: list[str]
    contact_id: int | None
    company_id: int | None
    outcome: Literal["created", "updated"] | None

    @classmethod
    def of(cls, r: dict[str, Any]) -> ImportRowOut:
        return cls(row=r["row_no"], **{k: v for k, v in r.items() if k != "row_no"})


class ImportOut(BaseModel):
    id: int
    kind: Literal["contacts", "companies"]
    format: Literal["csv", "vcf"]
    filename: str
    state: Literal["previewed", "queued", "done", "failed"] = Field(
        description="previewed: confirm it to import; queued: a job imports it; done; "
        "failed: every attempt failed (last_error says why; confirm it to try again)"
    )
    columns: list[ColumnOut]
    total_rows: int
    good_rows: int
    bad_rows: int
    problems: list[RowProblemOut] = Field(description="Rows left out and why (the first 1,000)")
    warnings: list[RowProblemOut] = Field(
        description="Rows imported with a note: in part (and what was not), or with a damaged "
        "address kept as written"
    )
    created: int
    updated: int
    last_error: str | None = Field(
        description="Why the last attempt failed (retried while the run is queued)"
    )
    created_on: datetime
    queued_on: datetime | None
    finished_on: datetime | None
    existing: int | None = Field(
        default=None, description="Preview: rows matching a contact (company) you have"
    )
    new: int | None = Field(default=None, description="Preview: rows that make a new one")
    sample: list[ImportRowOut] = Field(default=[], description="Preview: the first rows")

    @classmethod
    def of(cls, run: dict[str, Any], **extra: Any) -> ImportOut:
        return cls(
            **{k: run[k] for k in ("id", "kind", "format", "filename", "state", "total_rows")},
            **{k: run[k] for k in ("good_rows", "problems", "warnings", "last_error")},
            **{k: run[k] for k in ("created_on", "queued_on", "finished_on")},
            columns=[ColumnOut(**c) for c in run["mapping"]],
            bad_rows=run["total_rows"] - run["good_rows"],
            created=run["created_count"],
            updated=run["updated_count"],
            **extra,
        )


def _preview_out(found: service.Preview) -> ImportOut:
    return ImportOut.of(
        found.run,
        existing=found.existing if found.run["state"] == "previewed" else None,
        new=found.new if found.run["state"] == "previewed" else None,
        sample=[ImportRowOut.of(r) for r in found.sample],
    )


UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "A CSV file with a header row, or a .vcf of vCards",
                        }
                    },
                }
            }
        },
    }
}
UPLOAD_HELP = (
    " Columns are mapped by header (FluffyMail's export; Google Contacts, Outlook and HubSpot"
    " headers as “First Name”, “E-mail Address”, “Job Title”). Answers the preview; confirm it"
    " with POST /api/imports/{id}/confirm, or pass confirm=true to import at once."
)


async def _upload(
    request: Request, state: State, account: CurrentAccount, kind: Any, **options: Any
) -> ImportOut:
    confirm = options.pop("confirm")
    received = await service.receive(
        request_body(request), request.headers, settings=state.settings,
        user_id=account.id, in_flight=state.uploads,
    )  # fmt: skip
    found = await service.stage(state.pool, account.id, received, kind=kind, **options)
    if confirm:
        await service.confirm(state.pool, state.queue, account.id, found.run["id"])
        found = await service.preview(state.pool, account.id, found.run["id"])
    return _preview_out(found)


@router.post(
    "/imports/contacts",
    response_model=ImportOut,
    status_code=201,
    openapi_extra=UPLOAD_BODY,
    responses=UPLOAD_ERRORS,
    summary="Upload contacts (CSV or vCard), matched by address: re-importing updates them",
    description="Names, address, company, title, phones, tags and notes." + UPLOAD_HELP,
)
async def upload_contacts(
    request: Request,
    state: State,
    account: CurrentAccount,
    encoding: Annotated[
        Encoding | None, Query(description="Default: UTF-8 or UTF-16 by BOM")
    ] = None,
    region: Region = None,
    confirm: bool = False,
) -> ImportOut:
    return await _upload(
        request, state, account, "contacts", encoding=encoding, region=region, confirm=confirm
    )


@router.post(
    "/imports/companies",
    response_model=ImportOut,
    status_code=201,
    openapi_extra=UPLOAD_BODY,
    responses=UPLOAD_ERRORS,
    summary="Upload companies (CSV), matched by domain: re-importing updates them",
    description="Name, domain or website, tags and notes." + UPLOAD_HELP,
)
async def upload_companies(
    request: Request,
    state: State,
    account: CurrentAccount,
    encoding: Annotated[
        Encoding | None, Query(description="Default: UTF-8 or UTF-16 by BOM")
    ] = None,
    confirm: bool = False,
) -> ImportOut:
    return await _upload(request, state, account, "companies", encoding=encoding, confirm=confirm)


@router.get("/imports", response_model=list[ImportOut], summary="Your imports, newest first")
async def list_imports(state: State, account: CurrentAccount) -> list[ImportOut]:
    return [ImportOut.of(run) for run in await service.list_runs(state.pool, account.id)]


@router.get(
    "/imports/{import_id}",
    response_model=ImportOut,
    responses=NOT_FOUND,
    summary="An import: its preview until confirmed, then its report",
)
async def get_import(import_id: ImportId, state: State, account: CurrentAccount) -> ImportOut:
    return _preview_out(await service.preview(state.pool, account.id, import_id))


@router.get(
    "/imports/{import_id}/rows",
    response_model=list[ImportRowOut],
    responses=NOT_FOUND,
    summary="An import's good rows in file order, each with what it became",
)
async def import_rows(
    import_id: ImportId,
    state: State,
    account: CurrentAccount,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[ImportRowOut]:
    _, rows = await service.run_rows(state.pool, account.id, import_id, limit=limit, offset=offset)
    return [ImportRowOut.of(r) for r in rows]


@router.post(
    "/imports/{import_id}/confirm",
    response_model=ImportOut,
    status_code=202,
    responses={**NOT_FOUND, 409: {"model": ErrorOut}},
    summary="Import a previewed file, or try a failed import again (a job imports it, all of it or nothing)",
)
async def confirm_import(import_id: ImportId, state: State, account: CurrentAccount) -> ImportOut:
    run = await service.confirm(state.pool, state.queue, account.id, import_id)
    return ImportOut.of(run)


STREAMED = {"content": {"text/csv": {}, "text/vcard": {}}, "description": "The file, streamed"}


@router.get(
    "/contacts/export",
    response_class=StreamingResponse,
    responses={**NOT_FOUND, 200: STREAMED, 400: {"model": ErrorOut}},
    summary="Every contact a list or filter selects, as CSV or vCard (streamed)",
)
async def export_contacts(
    state: State,
    account: CurrentAccount,
    format: Literal["csv", "vcf"] = "csv",
    list: Annotated[int | None, Query(ge=1, le=BIGINT_MAX, description="A list's id")] = None,
    filter: Annotated[
        str | None,
        Query(
            max_length=1000,
            pattern=r"^[^\x00]*$",
            description="As a saved view's: tag:Investors level:strong …",
        ),
    ] = None,
) -> StreamingResponse:
    query = await export.selection(state.pool, account.id, list_id=list, filter_text=filter)
    stream = export.stream_contacts(state.pool, account.id, query, format)
    return _download(stream, f"contacts.{format}", format)


@router.get(
    "/companies/export",
    response_class=StreamingResponse,
    responses={**ERRORS, 200: {"content": {"text/csv": {}}, "description": "The file, streamed"}},
    summary="Every company (or those a search or tag selects) as CSV (streamed)",
)
async def export_companies(
    state: State,
    account: CurrentAccount,
    q: Annotated[str | None, Query(max_length=200, pattern=r"^[^\x00]*$")] = None,
    tag: Annotated[int | None, Query(ge=1, le=BIGINT_MAX, description="A tag's id")] = None,
) -> StreamingResponse:
    stream = export.stream_companies(state.pool, account.id, q=q, tag_id=tag)
    return _download(stream, "companies.csv", "csv")


def _download(stream: Any, name: str, fmt: str) -> StreamingResponse:
    media = "text/csv; charset=utf-8" if fmt == "csv" else "text/vcard; charset=utf-8"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return StreamingResponse(stream, media_type=media, headers=headers)
