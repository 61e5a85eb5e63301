"""The JSON models of notes, tags, bulk tagging and the activity log."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fluffymail.crm.notes.repo import MAX_BYTES
from fluffymail.web.api.schemas import JSON_INT_MAX
from fluffymail.web.services.tags import BULK_MAX, COLOURS, NAME_MAX

Colour = StrEnum("Colour", {c.upper(): c for c in COLOURS})
TagName = Annotated[
    str,
    Field(min_length=1, max_length=NAME_MAX, pattern=r"^[^\x00-\x1f]*[^\s\x00-\x1f][^\x00-\x1f]*$"),
]
Id = Annotated[int, Field(ge=1, le=JSON_INT_MAX)]


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# Some text that is not only white space; no control characters but tab and line breaks.
NOTE_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f]*[^\s\x00-\x1f][^\x00-\x08\x0b\x0c\x0e-\x1f]*$"


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(
        min_length=1,
        max_length=MAX_BYTES,
        pattern=NOTE_PATTERN,
        description=f"Markdown (no raw HTML; links to http, https and mailto only); at most "
        f"{MAX_BYTES:,} bytes of UTF-8. `@Name` mentions link the note to that contact too.",
    )

    @field_validator("body")
    @classmethod
    def _bounded(cls, body: str) -> str:
        if len(body.encode("utf-8", "surrogatepass")) > MAX_BYTES:
            raise ValueError(f"a note can be at most {MAX_BYTES:,} bytes")
        return body


class MentionOut(_Out):
    id: int
    label: str


class UnlinkedOut(_Out):
    mention: str = Field(description='As written, with its @: "@Mike"')
    reason: Literal["ambiguous", "unknown", "hidden"] = Field(
        description="ambiguous: it fits several contacts (named in `contacts`); unknown: no "
        "contact; hidden: only contacts you hid"
    )
    contacts: list[str] = Field(default=[], description="The contacts it could mean")


class NoteOut(_Out):
    id: int
    contact_id: int | None = None
    company_id: int | None = None
    body: str = Field(description="Markdown, as written")
    author_id: int | None = None
    author: str
    created_on: datetime
    updated_on: datetime
    mentions: list[MentionOut] = Field(description="The contacts the note mentions")
    unlinked: list[UnlinkedOut] = Field(
        default=[],
        description="Mentions that linked no one, and why (in the answer to a write only)",
    )


class TagIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: TagName
    colour: Colour = Colour.GREY  # type: ignore[attr-defined]


class TagPatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: TagName | None = None
    colour: Colour | None = None


class TagOut(_Out):
    id: int
    name: str
    colour: str = Field(description="One of the palette: " + ", ".join(c.value for c in Colour))
    contacts: int = Field(0, description="How many of your contacts carry it (in lists)")


class BulkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["tag", "untag"]
    tag_id: Id
    contact_ids: list[Id] = Field(min_length=1, max_length=BULK_MAX)


class BulkOut(BaseModel):
    action: Literal["tag", "untag"]
    tag: TagOut
    changed: list[int] = Field(description="The contacts the tag went on (or came off)")
    unchanged: list[int] = Field(description="Those that already had it (or did not)")


class ActivityOut(_Out):
    id: int
    action: str = Field(examples=["note.added", "tag.added", "contact.merged"])
    detail: dict[str, Any]
    at: datetime
    actor_id: int | None = None
    actor: str
