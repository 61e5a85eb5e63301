"""The JSON models of contacts, companies and messages (what OpenAPI documents for them)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from fluffymail.web.api.note_schemas import TagOut
from fluffymail.web.api.schemas import JSON_INT_MAX


class LevelName(StrEnum):
    """Relationship levels, strongest first (crm.relationships.models.Level)."""

    VERY_STRONG = "very strong"
    STRONG = "strong"
    MODERATE = "moderate"
    WEAK = "weak"
    VERY_WEAK = "very weak"
    NO_CONNECTION = "no connection"


class ContactSort(StrEnum):
    STRENGTH = "strength"
    LAST_INTERACTION = "last_interaction"
    NAME = "name"
    TAG = "tag"  # tagged first, by their first tag's name, then by name


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class MessageRefOut(_Out):
    """A cited message: follow `GET /api/messages/{id}`. `found` is false when it is gone."""

    id: int
    subject: str | None = None
    date: datetime | None = None
    from_address: str | None = None
    found: bool


class CompanyRefOut(_Out):
    id: int
    name: str
    domain: str


class FiguresOut(_Out):
    """A contact's figures, defined once (SCORING.md, "Figures") and the same on every page.

    While `updating` (new mail, a merge or an undo not yet analysed) every number is null:
    the API never returns a stale figure.
    """

    updating: bool = Field(description="Being recomputed; the numbers are null until done")
    messages: int | None = Field(description="sent + received")
    sent: int | None = Field(description="Messages you (or a delegate for you) sent them")
    received: int | None = Field(description="Messages they sent you")
    threads: int | None = Field(description="Distinct threads of those messages")
    two_way_threads: int | None = Field(description="Threads in which one side answered the other")
    first_at: datetime | None = Field(default=None, description="First message counted")
    last_at: datetime | None = Field(default=None, description="Last contact: last message counted")
    strength: float | None = Field(description="Relationship strength 0–100, one decimal")
    level: LevelName | None = None
    meetings: int = Field(default=0, description="Past meetings with them that the score counts")
    last_meeting_at: datetime | None = Field(default=None, description="Start of the last of them")


class ContactItemOut(_Out):
    id: int
    name: str
    primary_address: str
    company: CompanyRefOut | None = None
    is_internal: bool
    score: float | None = Field(
        description="Relationship strength 0–100 (figures.strength); null until analysed"
        " and while updating"
    )
    level: LevelName = Field(
        description="The last analysis's level (figures.level is null while updating)"
    )
    trend: str | None = Field(description="warming, steady or cooling; null until analysed")
    going_cold: bool
    last_interaction_on: datetime | None = Field(default=None, description="figures.last_at")
    first_interaction_on: datetime | None = Field(default=None, description="figures.first_at")
    sent: int | None = Field(description="figures.sent; null while updating")
    received: int | None = Field(description="figures.received; null while updating")
    updating: bool = Field(description="The figures are being recomputed (see figures)")
    figures: FiguresOut
    tags: list[TagOut] = Field(default_factory=list, description="Your workspace's tags on them")


class ContactPageOut(BaseModel):
    items: list[ContactItemOut]
    total: int = Field(description="Contacts matching the filters")
    limit: int
    offset: int
    next_offset: int | None = Field(description="The next page's offset; null on the last page")


class AddressOut(_Out):
    address: str
    is_primary: bool
    undeliverable: bool
    sent_for_you: int = Field(
        0, description="A delegate's messages sent from your sent folders (0: not a delegate)"
    )


class FactOut(_Out):
    """An enriched field and where it came from."""

    field: str
    value: str
    kind: str
    source: str = Field(description="'signature' or a provider name")
    confidence: float
    observed_on: datetime
    is_current: bool
    source_message: MessageRefOut | None = None


class EvidenceOut(_Out):
    text: str
    messages: list[MessageRefOut]


class MonthOut(_Out):
    month: str = Field(examples=["2025-03"])
    sent: int
    received: int


class StatsOut(_Out):
    sent: int
    received: int
    two_way_threads: int
    direct: int | None = None
    cc: int | None = None
    replies_sent: int | None = None
    replies_received: int | None = None
    median_reply_sent_seconds: float | None = Field(
        default=None, description="Your median reply time"
    )
    median_reply_received_seconds: float | None = Field(
        default=None, description="Their median reply time"
    )
    first_at: datetime | None = None
    last_at: datetime | None = None
    monthly: list[MonthOut]


class RelationshipOut(_Out):
    score: float
    level: LevelName
    trend: str
    going_cold: bool
    computed_on: datetime
    evidence: list[EvidenceOut] = Field(
        description="Why the score is what it is, with cited messages"
    )
    stats: StatsOut


class SummaryOut(_Out):
    status: str = Field(description="ok or failed")
    generated_by: str
    ai_generated: bool = Field(description="False for extractive summaries made without a model")
    who: str | None = None
    discussed: str | None = None
    open_loops: list[str]
    next_step: str | None = None
    citations: list[MessageRefOut]
    error: str | None = None
    created_on: datetime


class IntroductionOut(_Out):
    introducer: str
    introducer_contact_id: int | None = None
    introducer_name: str | None = None
    introduced_on: datetime | None = None
    message: MessageRefOut | None = None
    is_self: bool = Field(
        default=False,
        description="The user met them directly (wrote first, or was written to first)",
    )


class MergeOut(_Out):
    id: int
    into_contact_id: int
    from_contact_id: int
    other_label: str = Field(description="The other contact's name or address")
    addresses: list[str]
    reason: str
    actor: str
    merged_on: datetime
    unmerged_on: datetime | None = None


class HolderOut(_Out):
    """A team member (you or a teammate) who knows someone, and how well."""

    email: str
    name: str
    is_self: bool
    score: float
    level: str
    last_at: datetime | None = None


class PathInOut(_Out):
    holder: HolderOut
    contact_address: str
    contact_name: str


class LinkOut(_Out):
    strength: float
    level: str


class IntroPathOut(_Out):
    """You → connector → them, as strong as its weaker link."""

    connector_kind: str = Field(description="teammate or contact")
    connector_address: str
    connector_name: str
    connector_contact_id: int | None = None
    first: LinkOut
    second: LinkOut
    strength: float
    level: str


class CompanyPersonOut(_Out):
    address: str
    name: str
    holders: list[HolderOut]


class TeamRollupOut(_Out):
    """The company across your team's mailboxes."""

    people: int
    team_members: int
    strongest_score: float
    strongest_level: str
    last_interaction: datetime | None = None
    relationships: list[CompanyPersonOut]


class ContactDetailOut(_Out):
    id: int
    name: str
    primary_address: str
    company: CompanyRefOut | None = None
    is_internal: bool
    merged_into_id: int | None = Field(description="Set when this contact was merged into another")
    first_interaction_on: datetime | None = Field(default=None, description="figures.first_at")
    last_interaction_on: datetime | None = Field(default=None, description="figures.last_at")
    sent: int | None = Field(description="figures.sent; null while updating")
    received: int | None = Field(description="figures.received; null while updating")
    updating: bool = Field(description="The figures are being recomputed (see figures)")
    figures: FiguresOut
    addresses: list[AddressOut]
    facts: list[FactOut]
    relationship: RelationshipOut | None = Field(
        description="Null until relationships are analysed, and while updating"
    )
    summary: SummaryOut | None = None
    introduction: IntroductionOut | None = None
    merges: list[MergeOut]
    paths_in: list[PathInOut] | None = Field(
        default=None, description="Who in your team knows them best; null when not available"
    )
    warm_intros: list[IntroPathOut] | None = Field(
        default=None, description="Two-hop warm introductions; null when not available"
    )
    hidden: str | None = Field(
        default=None,
        description="Why the list does not show them: user (hidden), not_person, self, role",
    )
    name_source: str = Field(default="mail", description="you: the name you gave wins")


class TimelineItemOut(_Out):
    message_id: int
    date: datetime | None = None
    subject: str
    snippet: str
    from_address: str | None = None
    from_name: str | None = None
    direction: str = Field(description="received (they wrote), sent (you wrote to them) or cc")
    roles: list[str]


class TimelinePageOut(BaseModel):
    items: list[TimelineItemOut]
    total: int = Field(
        description="Every message of theirs listed, with mail you were both only copied on and"
        " bulk mail; figures.messages counts only the mail between you"
    )
    limit: int
    offset: int
    next_offset: int | None = None


class MergeIn(BaseModel):
    """Merge another of your contacts into this one (reversible)."""

    model_config = ConfigDict(extra="forbid")

    other_contact_id: int = Field(
        ge=1, le=JSON_INT_MAX, description="The contact absorbed into this one"
    )


class MergeResultOut(_Out):
    merge_id: int
    into_contact_id: int
    from_contact_id: int
    addresses: list[str]


class UndoOut(_Out):
    merge_id: int
    undone: bool


class CompanyItemOut(_Out):
    id: int
    name: str
    domain: str
    people: int
    best_score: float | None = None
    last_interaction_on: datetime | None = None


class CompanyPageOut(BaseModel):
    items: list[CompanyItemOut]
    total: int
    limit: int
    offset: int
    next_offset: int | None = None


class PersonOut(_Out):
    id: int
    name: str
    primary_address: str
    is_internal: bool
    score: float | None = Field(default=None, description="figures.strength")
    level: LevelName
    trend: str | None = None
    going_cold: bool
    last_interaction_on: datetime | None = Field(default=None, description="figures.last_at")
    figures: FiguresOut


class RollupOut(_Out):
    people: int
    internal_people: int
    best_score: float | None = None
    sent: int
    received: int
    going_cold: int
    first_interaction_on: datetime | None = None
    last_interaction_on: datetime | None = None


class CompanyDetailOut(_Out):
    id: int
    name: str
    domain: str
    website: str | None = None
    people: list[PersonOut] = Field(description="Your contacts there, strongest first")
    rollup: RollupOut
    paths_in: list[PathInOut] | None = Field(
        default=None, description="Who in your team knows the company best; null when not available"
    )
    team: TeamRollupOut | None = Field(default=None, description="Null when not available")


class ParticipantOut(_Out):
    role: str
    address: str
    display_name: str
    contact_id: int | None = None


class AddressGroupOut(_Out):
    header: str
    name: str
    members: list[str]


class MessageOut(_Out):
    id: int
    subject: str
    date: datetime | None = None
    from_address: str | None = None
    from_name: str | None = None
    participants: list[ParticipantOut]
    body_text: str
    thread_id: int | None = None
    thread_subject: str | None = None
    thread_message_count: int | None = None
    message_id_header: str | None = None
    automated_reason: str | None = None
    address_groups: list[AddressGroupOut] = []
