"""The message list's and mail search's response models (what OpenAPI documents)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class MessageSort(StrEnum):
    RELEVANCE = "relevance"
    DATE = "date"


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class FragmentOut(_Out):
    """A piece of a highlighted excerpt; `hit` when it is one of the searched words."""

    text: str
    hit: bool = False


class MessageItemOut(_Out):
    """One message of the list. With `q`: `rank` (relevance order only), and `headline` and
    `subject_marked`, the body excerpt and subject split into plain and matched pieces."""

    id: int
    date: datetime | None = None
    subject: str
    snippet: str
    from_address: str | None = None
    from_name: str | None = None
    recipients: str = Field(description="To, Cc and Bcc names and addresses, as searched")
    thread_id: int | None = None
    has_attachment: bool
    rank: float | None = None
    headline: list[FragmentOut] = []
    subject_marked: list[FragmentOut] = []


class MessagePageOut(_Out):
    """A page of messages. `total` counts the matches up to 200 (`total_capped` when there are
    more); pass `next_after` as `after` for the next page (absent on the last)."""

    items: list[MessageItemOut]
    total: int
    total_capped: bool
    next_after: str | None = None


class WriterOut(_Out):
    """A contact who wrote about the searched words: how many such messages, the latest when."""

    id: int
    name: str
    primary_address: str
    company_name: str | None = None
    messages: int
    last_on: datetime | None = None
