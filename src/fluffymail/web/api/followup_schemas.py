"""The JSON models of follow-ups, cadences and the digest."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fluffymail.web.api.schemas import JSON_INT_MAX
from fluffymail.web.services.followups import BULK_MAX, CADENCE_MAX

Id = Annotated[int, Field(ge=1, le=JSON_INT_MAX)]
SNOOZE_HOUR = time(9, tzinfo=UTC)  # a snooze to a date ends at 09:00 UTC that day


class FollowupOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    contact_id: int
    contact_name: str
    reason: str = Field(
        description="cadence, cold, question (they asked), promise (you made) or met (no mail since)"
    )
    detail: str = Field(description="Why: the question or promise quoted, or the cadence")
    message_id: int | None = Field(
        description="The message that caused it (GET /api/messages/{id})"
    )
    message_subject: str | None = None
    message_date: datetime | None = None
    due_on: datetime
    state: str = Field(description="open, snoozed, done, dismissed or resolved")
    remind_on: datetime | None = Field(
        description="When it is (next) due; null while waiting for them to write"
    )
    until_reply: bool


class BoardOut(BaseModel):
    now: datetime = Field(
        description="The time due and overdue are counted from: now, or for an archive the day"
        " after its last mail (`archive_ends`), the time its scores are as of"
    )
    archive_ends: datetime | None = Field(
        default=None,
        description="When the mailbox is an archive (no mail for 90 days): the date of its last"
        " mail; its follow-ups are as of then, like its scores. Null for a live mailbox",
    )
    due: list[FollowupOut] = Field(description="Due or overdue, oldest first (at most 50)")
    due_total: int = Field(description="How many are due in all")
    upcoming: list[FollowupOut] = Field(description="Due in the next 14 days (the first 20)")
    later: list[FollowupOut] = Field(
        default=[], description="Due after the next 14 days, snoozed ones included (the first 20)"
    )
    waiting: list[FollowupOut] = Field(description="Snoozed until they write (the first 20)")
    digest: bool = Field(description="Whether the daily digest (`followups.due` event) is on")


class SnoozeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    until: datetime | date | None = Field(
        default=None,
        description="When it is due again: a time with its zone, or a date (09:00 UTC)",
    )
    until_reply: bool = Field(default=False, description="Due again when they write instead")

    @field_validator("until", mode="before")
    @classmethod
    def _a_date_is_a_date(cls, value: object) -> object:
        if isinstance(value, str) and len(value.strip()) == 10:
            return date.fromisoformat(value.strip())  # ValueError: a 422 naming the field
        return value

    def until_time(self) -> datetime | None:
        if isinstance(self.until, datetime) or self.until is None:
            return self.until
        return datetime.combine(self.until, SNOOZE_HOUR)


class CadenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: Annotated[int, Field(ge=1, le=CADENCE_MAX)] | None = Field(
        description=f"Keep in touch every this many days (1 to {CADENCE_MAX}); null clears it"
    )


class CadenceOut(BaseModel):
    contact_id: int
    days: int | None


class BulkCadenceIn(CadenceIn):
    contact_ids: list[Id] = Field(min_length=1, max_length=BULK_MAX)


class BulkCadenceOut(BaseModel):
    days: int | None
    changed: list[int]


class SettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    digest: bool


class SettingsOut(BaseModel):
    digest: bool


class RecomputeOut(BaseModel):
    open: int = Field(description="How many follow-ups are open or snoozed after recomputing")
