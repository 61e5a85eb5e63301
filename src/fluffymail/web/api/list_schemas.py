"""The JSON models of lists (saved views and static lists), corrections by hand, company
merges and merge previews."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from fluffymail.crm.lists.filters import KEYS, MAX_LENGTH
from fluffymail.web.api.schemas import JSON_INT_MAX
from fluffymail.web.services.lists import COLUMNS, NAME_MAX
from fluffymail.web.services.tags import BULK_MAX

Id = Annotated[int, Field(ge=1, le=JSON_INT_MAX)]
Column = Literal["company", "strength", "trend", "last_interaction", "sent", "received"]
Sort = Literal["strength", "last_interaction", "name", "tag"]
assert set(Column.__args__) == set(COLUMNS)  # type: ignore[attr-defined]
FILTER_HELP = (
    f"Terms {', '.join(k + ':' for k in KEYS)} and free words (a search), e.g. "
    '`tag:Investors level:strong cold:yes people:external company:acme.com "board"`; '
    'quote values with spaces (`tag:"Going cold"`). A filter that does not parse answers 400.'
)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ListIn(_In):
    name: str = Field(min_length=1, max_length=NAME_MAX)
    kind: Literal["view", "static"] = Field(
        "view", description="view: a saved filter; static: contacts you put on it"
    )
    filter: str = Field("", max_length=MAX_LENGTH, description=FILTER_HELP)
    sort: Sort = "strength"
    columns: list[Column] | None = Field(None, description="Shown besides the name; null: all")
    shared: bool = Field(False, description="Shown to everyone in your workspace (views only)")


class ListPatchIn(_In):
    name: str | None = Field(None, min_length=1, max_length=NAME_MAX)
    filter: str | None = Field(None, max_length=MAX_LENGTH, description=FILTER_HELP)
    sort: Sort | None = None
    columns: list[Column] | None = None
    shared: bool | None = None


class ListOut(_Out):
    id: int
    name: str
    kind: Literal["view", "static"]
    filter: str
    sort: str
    columns: list[str] = Field(description="Empty: all of them")
    shared: bool
    owner_id: int
    owner: str
    members: int = Field(description="Contacts put on a static list (0 for a view)")
    created_on: datetime
    updated_on: datetime


class MembersIn(_In):
    contact_ids: list[Id] = Field(min_length=1, max_length=BULK_MAX)


class MembersOut(BaseModel):
    list: ListOut
    changed: list[int] = Field(description="Those put on the list (or taken off)")
    unchanged: list[int] = Field(description="Those already on it (or not on it)")


class ContactPatchIn(_In):
    """Only the fields sent change; null (or "") clears company, title or phone. A value you
    set wins over what extraction finds and stays when more mail arrives."""

    name: str | None = Field(None, min_length=1, max_length=200)
    company_id: Id | None = None
    company_domain: str | None = Field(
        None, max_length=253, description="Set the company by its domain (made if new)"
    )
    title: str | None = Field(None, max_length=200)
    phone: str | None = Field(None, max_length=40)


class ContactNewIn(_In):
    address: str = Field(min_length=3, max_length=320)
    name: str = Field("", max_length=200)
    company_domain: str | None = Field(
        None, max_length=253, description="Default: the address's domain (not for free mail)"
    )


class CreatedOut(BaseModel):
    id: int


class VisibilityIn(_In):
    state: Literal["hidden", "not_person", "shown"] = Field(
        description="hidden; not_person (a bot or a mailing list); shown again"
    )


class BulkVisibilityIn(MembersIn, VisibilityIn):
    """Hide (or show) many contacts at once."""


class VisibilityOut(BaseModel):
    changed: list[int]


class CompanyPatchIn(_In):
    name: str | None = Field(None, min_length=1, max_length=200)
    website: str | None = Field(None, max_length=500, description='"" or null clears it')


class CompanyMergeIn(_In):
    other_company_id: Id = Field(description="The company absorbed into this one")


class CompanyMergeOut(_Out):
    merge_id: int
    into_company_id: int
    from_company_id: int
    contact_ids: list[int] = Field(description="The people who moved")


class ContactSideOut(_Out):
    id: int
    label: str
    primary_address: str
    company: str | None
    addresses: list[str]
    updating: bool = Field(description="Figures being recomputed: the numbers are null")
    sent: int | None = Field(description="As the contact's figures (null while updating)")
    received: int | None
    last_interaction_on: datetime | None


class ContactMergePreviewOut(_Out):
    into: ContactSideOut
    other: ContactSideOut
    addresses: list[str] = Field(description="The addresses that move (with their mail)")
    messages: int | None = Field(description="Messages that come with them (null while updating)")


class CompanySideOut(_Out):
    id: int
    name: str
    domain: str
    people: int


class CompanyMergePreviewOut(_Out):
    into: CompanySideOut
    other: CompanySideOut
    people: list[str] = Field(description="The people who move")
    notes: int = Field(0, description="How many of the other company's notes move with it")
    tags: list[str] = Field([], description="The other company's tags, which this one gets")
